using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Providers.Gemini;
using Baton.Providers.Translation;

namespace Baton.Core.Tests.Providers.Gemini;

public sealed class GeminiRequestTranslatorTests
{
    private const string System = "You are a scheduling assistant. Use the provided tools to book meetings; answer briefly otherwise.";
    private const string Schedule = "Schedule a meeting with Bob and Alice for 03/27/2025 at 10:00 AM about the Q3 planning.";

    // The meeting tool as an OpenAI client sends it, with keywords Gemini rejects (they must be left out).
    private const string ScheduleTool = """
        {"type":"function","function":{"name":"schedule_meeting","description":"Schedules a meeting with specified attendees at a given time and date.",
         "parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,"properties":{
           "attendees":{"type":"array","items":{"type":"string"},"description":"List of people attending the meeting."},
           "date":{"type":"string","description":"Date of the meeting (e.g., '2024-07-29')"},
           "time":{"type":"string","description":"Time of the meeting (e.g., '15:00')"},
           "topic":{"type":"string","description":"The subject or topic of the meeting."}},
          "required":["attendees","date","time","topic"]}}}
        """;

    private const string WeatherTool = """
        {"type":"function","function":{"name":"get_current_weather","description":"Get the current weather in a given location",
         "parameters":{"type":"object","properties":{
           "location":{"type":"string","description":"The city name of the location for which to get the weather."},
           "unit":{"type":"string","enum":["celsius","fahrenheit"],"description":"Temperature unit."}},
          "required":["location"]}}}
        """;

    private static string Translate(string openAiJson, RequestDefaults? defaults = null) =>
        Encoding.UTF8.GetString(GeminiRequestTranslator.Translate(OpenAiChatBody.Read(Encoding.UTF8.GetBytes(openAiJson), defaults ?? new RequestDefaults())));

    [Fact]
    public void A_conversation_with_tools_matches_the_generate_request_fixture()
    {
        var request = $$"""
            {"model":"gemini-2.5-flash","messages":[
              {"role":"system","content":{{JsonSerializer.Serialize(System)}}},
              {"role":"user","content":"Hi! Can you help me organise the Q3 planning?"},
              {"role":"assistant","content":"Of course. Who should attend, and when would you like to meet?"},
              {"role":"user","content":{{JsonSerializer.Serialize(Schedule)}}}],
             "tools":[{{ScheduleTool}},{{WeatherTool}}],"tool_choice":"auto",
             "temperature":0.7,"top_p":0.95,"max_tokens":1024,"stop":["\n\nUser:"]}
            """;

        GeminiFixtures.AssertSameJson(GeminiFixtures.Text("generate-request.json"), Translate(request));
    }

    [Fact]
    public void A_tool_result_after_gemini_s_own_call_matches_the_function_response_fixture_thought_signature_included()
    {
        // The assistant turn is what Baton answered for generate-response-function-call.json, sent back unchanged.
        using var answer = JsonDocument.Parse(GeminiResponseTranslator.Translate(
            JsonDocument.Parse(GeminiFixtures.Bytes("generate-response-function-call.json")).RootElement, "m", 0, out _));
        var assistant = answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetRawText();
        var callId = answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0].GetProperty("id").GetString();
        var result = """{"result":{"status":"scheduled","meetingId":"mtg-4821","attendees":["Bob","Alice"],"start":"2025-03-27T10:00:00"}}""";
        var request = $$"""
            {"model":"gemini-3-flash-preview","messages":[
              {"role":"system","content":{{JsonSerializer.Serialize(System)}}},
              {"role":"user","content":{{JsonSerializer.Serialize(Schedule)}}},
              {{assistant}},
              {"role":"tool","tool_call_id":{{JsonSerializer.Serialize(callId)}},"content":{{JsonSerializer.Serialize(result)}}}],
             "tools":[{{ScheduleTool}}],"temperature":0.7,"max_tokens":1024}
            """;

        GeminiFixtures.AssertSameJson(GeminiFixtures.Text("generate-request-function-response.json"), Translate(request));
    }

    [Fact]
    public void Consecutive_turns_of_one_role_are_merged_and_text_results_are_wrapped()
    {
        var request = """
            {"messages":[{"role":"user","content":"first"},{"role":"user","content":"second"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_0","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},
                {"id":"call_1","type":"function","function":{"name":"b","arguments":"[1,2]"}}]},
              {"role":"tool","tool_call_id":"call_0","content":"sunny"},
              {"role":"tool","tool_call_id":"call_1","content":"42"},
              {"role":"user","content":"thanks"}]}
            """;

        GeminiFixtures.AssertSameJson("""
            {"contents":[
              {"role":"user","parts":[{"text":"first"},{"text":"second"}]},
              {"role":"model","parts":[{"functionCall":{"name":"a","args":{"x":1}}},{"functionCall":{"name":"b","args":{"arguments":[1,2]}}}]},
              {"role":"user","parts":[
                {"functionResponse":{"name":"a","response":{"result":"sunny"}}},
                {"functionResponse":{"name":"b","response":{"result":42}}},
                {"text":"thanks"}]}]}
            """, Translate(request));
    }

    [Fact]
    public void A_turn_with_nothing_for_gemini_is_left_out_and_does_not_part_the_turns_around_it()
    {
        // An empty assistant message between two user messages: the user turns are merged across it.
        var request = """
            {"messages":[{"role":"user","content":"first"},{"role":"assistant","content":""},{"role":"user","content":"second"}]}
            """;

        GeminiFixtures.AssertSameJson("""
            {"contents":[{"role":"user","parts":[{"text":"first"},{"text":"second"}]}]}
            """, Translate(request));
    }

    [Fact]
    public void Images_become_inline_data_or_file_data()
    {
        var request = """
            {"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}
            """;

        GeminiFixtures.AssertSameJson("""
            {"contents":[{"role":"user","parts":[{"text":"What is this?"},
              {"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}},
              {"fileData":{"fileUri":"https://example.com/cat.jpg"}}]}]}
            """, Translate(request));
    }

    [Theory]
    [InlineData("\"none\"", """{"mode":"NONE"}""")]
    [InlineData("\"required\"", """{"mode":"ANY"}""")]
    [InlineData("""{"type":"function","function":{"name":"get_current_weather"}}""", """{"mode":"ANY","allowedFunctionNames":["get_current_weather"]}""")]
    public void Tool_choice_becomes_a_function_calling_mode(string choice, string expected)
    {
        var request = $$"""{"messages":[{"role":"user","content":"hi"}],"tools":[{{WeatherTool}}],"tool_choice":{{choice}}}""";

        using var json = JsonDocument.Parse(Translate(request));
        GeminiFixtures.AssertSameJson(expected, json.RootElement.GetProperty("toolConfig").GetProperty("functionCallingConfig").GetRawText());
    }

    [Fact]
    public void Keywords_gemini_rejects_are_stripped_at_every_depth_but_properties_of_that_name_are_kept()
    {
        var request = """
            {"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":
              {"type":"object","additionalProperties":false,"properties":{
                "additionalProperties":{"type":"string"},
                "nested":{"type":"object","additionalProperties":{"type":"string"},"$schema":"x","properties":{"a":{"type":"string"}}},
                "list":{"type":"array","items":{"type":"object","additionalProperties":false,"properties":{"b":{"type":"integer"}}}}}}}}]}
            """;

        using var json = JsonDocument.Parse(Translate(request));
        GeminiFixtures.AssertSameJson("""
            {"type":"object","properties":{
              "additionalProperties":{"type":"string"},
              "nested":{"type":"object","properties":{"a":{"type":"string"}}},
              "list":{"type":"array","items":{"type":"object","properties":{"b":{"type":"integer"}}}}}}
            """, json.RootElement.GetProperty("tools")[0].GetProperty("functionDeclarations")[0].GetProperty("parameters").GetRawText());
    }

    [Fact]
    public void Response_format_seed_reasoning_effort_and_defaults_go_to_generation_config()
    {
        var request = """
            {"messages":[{"role":"user","content":"hi"}],"seed":7,"reasoning_effort":"low",
             "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"n":{"type":"integer"}},"additionalProperties":false}}}}
            """;

        using var json = JsonDocument.Parse(Translate(request, new RequestDefaults { Temperature = 0.2, MaxTokens = 256 }));
        GeminiFixtures.AssertSameJson("""
            {"temperature":0.2,"maxOutputTokens":256,"seed":7,"responseMimeType":"application/json",
             "responseJsonSchema":{"type":"object","properties":{"n":{"type":"integer"}},"additionalProperties":false},
             "thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}
            """, json.RootElement.GetProperty("generationConfig").GetRawText());
    }

    [Fact]
    public void Json_object_asks_for_json_without_a_schema()
    {
        using var json = JsonDocument.Parse(Translate("""{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}"""));
        GeminiFixtures.AssertSameJson("""{"responseMimeType":"application/json"}""", json.RootElement.GetProperty("generationConfig").GetRawText());
    }
}
