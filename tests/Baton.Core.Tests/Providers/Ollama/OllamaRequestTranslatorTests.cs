using System.Text.Json.Nodes;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers.Ollama;
using Baton.Providers.Translation;

namespace Baton.Core.Tests.Providers.Ollama;

public sealed class OllamaRequestTranslatorTests
{
    private static JsonObject Translate(string openAiJson, string model = "llama3.2", bool stream = false, RequestDefaults? defaults = null)
    {
        var body = OpenAiChatBody.Read(System.Text.Encoding.UTF8.GetBytes(openAiJson), defaults ?? new RequestDefaults());
        return JsonNode.Parse(OllamaRequestTranslator.Translate(body, model, stream))!.AsObject();
    }

    private static void AssertSameJson(JsonNode expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected:\n{expected.ToJsonString()}\nactual:\n{actual.ToJsonString()}");

    [Fact]
    public void A_conversation_with_tools_and_options_becomes_the_documented_request()
    {
        var expected = JsonNode.Parse(ProviderFixtures.Text("ollama", "chat-request.json"))!.AsObject();
        // The same request as an OpenAI client sends it; the tool definitions have the same shape in both APIs.
        var openAi = new JsonObject
        {
            ["model"] = "my-alias",
            ["messages"] = expected["messages"]!.DeepClone(),
            ["tools"] = expected["tools"]!.DeepClone(),
            ["temperature"] = 0.8,
            ["top_p"] = 0.9,
            ["max_tokens"] = 100,
            ["stop"] = new JsonArray("\n", "user:"),
            ["stream"] = false,
        };

        var actual = Translate(openAi.ToJsonString());

        Assert.Equal("llama3.2", (string?)actual["model"]);
        AssertSameJson(expected["messages"]!, actual["messages"]!);
        AssertSameJson(expected["tools"]!, actual["tools"]!);
        AssertSameJson(expected["options"]!, actual["options"]!);
        Assert.False((bool)actual["stream"]!);
        AssertSameJson(expected, actual);
    }

    [Fact]
    public void A_tool_result_names_its_tool_and_the_call_carries_an_arguments_object()
    {
        var expected = JsonNode.Parse(ProviderFixtures.Text("ollama", "chat-request-tool-result.json"))!;
        const string openAi = """
            {"model":"m","stream":false,"messages":[
              {"role":"user","content":"What is the temperature in New York?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_7","type":"function","function":{"name":"get_temperature","arguments":"{\"city\":\"New York\"}"}}]},
              {"role":"tool","tool_call_id":"call_7","content":"22°C"}]}
            """;

        var actual = Translate(openAi, model: "qwen3");

        var messages = actual["messages"]!.AsArray();
        Assert.Equal("get_temperature", (string?)messages[2]!["tool_name"]);
        Assert.Equal("New York", (string?)messages[1]!["tool_calls"]![0]!["function"]!["arguments"]!["city"]);
        AssertSameJson(expected, actual);
    }

    [Fact]
    public void System_prompts_come_first_and_the_stream_choice_is_always_stated()
    {
        var actual = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"developer","content":"Be brief."}]}""", stream: true);

        var messages = actual["messages"]!.AsArray();
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Equal("Be brief.", (string?)messages[0]!["content"]);
        Assert.Equal("user", (string?)messages[1]!["role"]);
        Assert.True((bool)actual["stream"]!);
        Assert.Null(actual["options"]);
    }

    [Fact]
    public void Inline_images_become_base64_on_the_message()
    {
        var actual = Translate("""
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}
            """);

        var message = actual["messages"]![0]!;
        Assert.Equal("What is this?", (string?)message["content"]);
        Assert.Equal("iVBORw0KGgo=", (string?)message["images"]![0]);
    }

    [Fact]
    public void A_remote_image_url_is_refused_with_a_400_because_ollama_cannot_fetch_it()
    {
        var error = Assert.Throws<BatonException>(() => Translate("""
            {"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}
            """));
        Assert.Equal(400, error.StatusCode);
    }

    [Theory]
    [InlineData("""{"type":"json_object"}""", "\"json\"")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}""", """{"type":"object","properties":{"a":{"type":"string"}}}""")]
    public void Response_formats_become_ollama_format(string responseFormat, string expectedFormat)
    {
        var actual = Translate($$"""{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{{responseFormat}}}""");
        AssertSameJson(JsonNode.Parse(expectedFormat)!, actual["format"]!);
    }

    [Theory]
    [InlineData("high", "\"high\"")]
    [InlineData("minimal", "\"low\"")]
    [InlineData("none", "false")]
    public void Reasoning_effort_becomes_think(string effort, string expectedThink)
    {
        var actual = Translate($$"""{"model":"m","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"{{effort}}"}""");
        AssertSameJson(JsonNode.Parse(expectedThink)!, actual["think"]!);
    }

    [Fact]
    public void Seed_and_deployment_defaults_go_into_options()
    {
        var actual = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"}],"seed":42,"stop":"END"}""", defaults: new RequestDefaults { Temperature = 0.2, MaxTokens = 64 });

        var options = actual["options"]!;
        Assert.Equal(42, (long)options["seed"]!);
        Assert.Equal(0.2, (double)options["temperature"]!);
        Assert.Equal(64, (int)options["num_predict"]!);
        Assert.Equal("END", (string?)options["stop"]![0]);
    }

    [Fact]
    public void Tool_choice_none_offers_no_tools_and_a_forced_function_offers_only_that_one()
    {
        const string tools = """
            "tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object"}}},{"type":"function","function":{"name":"b"}}]
            """;
        var none = Translate($$"""{"model":"m","messages":[{"role":"user","content":"hi"}],{{tools}},"tool_choice":"none"}""");
        var forced = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"}],""" + tools + ""","tool_choice":{"type":"function","function":{"name":"b"}}}""");

        Assert.Null(none["tools"]);
        var offered = Assert.Single(forced["tools"]!.AsArray());
        Assert.Equal("b", (string?)offered!["function"]!["name"]);
    }
}
