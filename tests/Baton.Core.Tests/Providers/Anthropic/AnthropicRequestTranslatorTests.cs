using System.Text.Json.Nodes;
using Baton.Configuration;
using Baton.Errors;
using Baton.Providers.Anthropic;
using Baton.Providers.Translation;

namespace Baton.Core.Tests.Providers.Anthropic;

public sealed class AnthropicRequestTranslatorTests
{
    private static JsonNode Translate(string openAiJson, bool stream = false, RequestDefaults? defaults = null, string model = "claude-opus-4-1-20250805")
    {
        var body = OpenAiChatBody.Read(System.Text.Encoding.UTF8.GetBytes(openAiJson), defaults ?? new RequestDefaults());
        using var translated = AnthropicRequestTranslator.Translate(body, model, stream);
        return JsonNode.Parse(translated.Span)!;
    }

    private const string RoundTrip = """
        {"model":"claude","messages":[
          {"role":"system","content":"You are a weather assistant."},
          {"role":"developer","content":"Answer in one sentence."},
          {"role":"user","content":"What is the weather like in San Francisco and Paris?"},
          {"role":"assistant","content":"I'll check the current weather in both cities for you.","tool_calls":[
            {"id":"toolu_01A09q90qw90lq917835lq9","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}"}},
            {"id":"toolu_01B29q90qw90lq917835lq8","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris, France\",\"unit\":\"celsius\"}"}}]},
          {"role":"tool","tool_call_id":"toolu_01A09q90qw90lq917835lq9","content":"15 degrees"},
          {"role":"tool","tool_call_id":"toolu_01B29q90qw90lq917835lq8","content":"18 degrees"},
          {"role":"user","content":[{"type":"text","text":"And what is in this picture?"},
            {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="}},
            {"type":"image_url","image_url":{"url":"https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"}}]}],
         "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather in a given location",
           "parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},
             "unit":{"type":"string","enum":["celsius","fahrenheit"],"description":"The unit of temperature, either 'celsius' or 'fahrenheit'"}},"required":["location"]}}}],
         "tool_choice":"required","parallel_tool_calls":false,"temperature":1.4,"top_p":0.9,"max_tokens":512,"stop":["END","  "],"user":"user-42","seed":7}
        """;

    [Fact]
    public void A_tool_round_trip_becomes_the_documented_messages_request()
    {
        var actual = Translate(RoundTrip);
        var expected = AnthropicFixtures.Node("messages-request-tool-round-trip.json");

        // Field by field first, so a failure names the field; then the whole, so nothing extra slips in.
        foreach (var (name, value) in expected.AsObject())
        {
            Assert.True(JsonNode.DeepEquals(value, actual[name]), $"{name}: expected {value?.ToJsonString()}, got {actual[name]?.ToJsonString()}");
        }
        Assert.True(JsonNode.DeepEquals(expected, actual), actual.ToJsonString());
    }

    [Fact]
    public void Tool_results_and_the_following_user_text_share_one_user_turn_with_results_first()
    {
        var messages = Translate(RoundTrip)["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        var types = messages[2]!["content"]!.AsArray().Select(b => b!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["tool_result", "tool_result", "text", "image", "image"], types);
    }

    [Fact]
    public void Max_tokens_is_always_sent_and_stream_only_when_streaming()
    {
        var plain = Translate("""{"model":"m","messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(AnthropicRequestTranslator.DefaultMaxTokens, plain["max_tokens"]!.GetValue<int>());
        Assert.Null(plain["stream"]);
        Assert.Null(plain["system"]);
        Assert.Null(plain["tools"]);

        var streamed = Translate("""{"model":"m","max_completion_tokens":77,"messages":[{"role":"user","content":"Hi"}]}""", stream: true);
        Assert.Equal(77, streamed["max_tokens"]!.GetValue<int>());
        Assert.True(streamed["stream"]!.GetValue<bool>());
        Assert.Equal("claude-opus-4-1-20250805", streamed["model"]!.GetValue<string>());
    }

    [Fact]
    public void The_deployment_default_max_tokens_applies_when_the_client_sets_none()
    {
        var request = Translate("""{"model":"m","messages":[{"role":"user","content":"Hi"}]}""", defaults: new RequestDefaults { MaxTokens = 300 });
        Assert.Equal(300, request["max_tokens"]!.GetValue<int>());
    }

    [Fact]
    public void Consecutive_user_messages_merge_and_empty_assistant_turns_are_left_out()
    {
        var request = Translate("""
            {"model":"m","messages":[{"role":"user","content":"One"},{"role":"assistant","content":""},{"role":"user","content":"Two"}]}
            """);
        var messages = request["messages"]!.AsArray();
        var only = Assert.Single(messages);
        Assert.Equal(["One", "Two"], only!["content"]!.AsArray().Select(b => b!["text"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("\"auto\"", null, """{"type":"auto"}""")]
    [InlineData("\"none\"", null, """{"type":"none"}""")]
    [InlineData("\"required\"", null, """{"type":"any"}""")]
    [InlineData("""{"type":"function","function":{"name":"get_weather"}}""", null, """{"type":"tool","name":"get_weather"}""")]
    [InlineData(null, "false", """{"type":"auto","disable_parallel_tool_use":true}""")]
    [InlineData("\"auto\"", "true", """{"type":"auto"}""")]
    public void Tool_choice_maps_to_anthropic(string? choice, string? parallel, string expected)
    {
        var extra = (choice is null ? "" : $",\"tool_choice\":{choice}") + (parallel is null ? "" : $",\"parallel_tool_calls\":{parallel}");
        var request = Translate($$$"""
            {"model":"m","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"get_weather"}}]{{{extra}}}}
            """);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), request["tool_choice"]), request["tool_choice"]?.ToJsonString());
        Assert.Equal("object", request["tools"]![0]!["input_schema"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void No_tool_choice_is_sent_without_tools_or_a_choice()
    {
        Assert.Null(Translate("""{"model":"m","messages":[{"role":"user","content":"Hi"}],"tool_choice":"auto"}""")["tool_choice"]);
        Assert.Null(Translate(TestSupport.TestProviders.WithTool())["tool_choice"]);
    }

    [Theory]
    [InlineData("low", 1024)]
    [InlineData("medium", 4096)]
    [InlineData("high", 16384)]
    public void Reasoning_effort_becomes_a_thinking_budget_below_max_tokens(string effort, int budget)
    {
        var request = Translate($$"""{"model":"m","reasoning_effort":"{{effort}}","temperature":0.2,"top_p":0.5,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal("enabled", request["thinking"]!["type"]!.GetValue<string>());
        Assert.Equal(budget, request["thinking"]!["budget_tokens"]!.GetValue<int>());
        Assert.True(request["max_tokens"]!.GetValue<int>() > budget);
        // Anthropic refuses sampling changes while thinking.
        Assert.Null(request["temperature"]);
        Assert.Null(request["top_p"]);
    }

    [Fact]
    public void A_thinking_budget_is_capped_by_the_clients_limit_and_dropped_when_the_limit_is_too_small()
    {
        var capped = Translate("""{"model":"m","reasoning_effort":"high","max_tokens":2000,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(2000, capped["max_tokens"]!.GetValue<int>());
        Assert.Equal(1999, capped["thinking"]!["budget_tokens"]!.GetValue<int>());

        var tooSmall = Translate("""{"model":"m","reasoning_effort":"low","max_tokens":500,"temperature":0.3,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Null(tooSmall["thinking"]);
        Assert.Equal(0.3, tooSmall["temperature"]!.GetValue<double>());
    }

    [Fact]
    public void Tool_call_arguments_that_are_not_an_object_are_a_clear_400()
    {
        var error = Assert.Throws<BatonException>(() => Translate("""
            {"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"[1,2"}}]}]}
            """));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal(ErrorTypes.InvalidRequest, error.Type);
        Assert.Contains("'f'", error.Message);
    }
}
