using System.Text.Json.Nodes;
using Baton.Providers.Anthropic;

namespace Baton.Core.Tests.Providers.Anthropic;

public sealed class AnthropicResponseTranslatorTests
{
    private static (JsonNode Json, Baton.Providers.TokenUsage Usage) Translate(byte[] anthropic)
    {
        using var completion = AnthropicResponseTranslator.Translate(AnthropicFixtures.Element(anthropic), AnthropicFixtures.Created);
        return (JsonNode.Parse(completion.Body.Span)!, completion.Usage);
    }

    [Fact]
    public void The_documented_text_answer_becomes_a_chat_completion()
    {
        var (json, usage) = Translate(AnthropicFixtures.Read("messages-response.json"));

        Assert.Equal("msg_013Zva2CMHLNnXjNJJKqJ2EF", json["id"]!.GetValue<string>());
        Assert.Equal("chat.completion", json["object"]!.GetValue<string>());
        Assert.Equal(AnthropicFixtures.Created, json["created"]!.GetValue<long>());
        Assert.Equal("claude-3-7-sonnet-20250219", json["model"]!.GetValue<string>());
        var choice = json["choices"]![0]!;
        Assert.Equal("assistant", choice["message"]!["role"]!.GetValue<string>());
        Assert.Equal("Hi! My name is Claude.", choice["message"]!["content"]!.GetValue<string>());
        Assert.Null(choice["message"]!["tool_calls"]);
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal(Baton.Providers.TokenUsage.Of(2095, 503), usage);
        Assert.Equal(2598, json["usage"]!["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public void The_documented_tool_use_answer_becomes_tool_calls_with_cached_prompt_tokens_counted()
    {
        var (json, usage) = Translate(AnthropicFixtures.Read("messages-response-tool-use.json"));

        var choice = json["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal("I'll check the current weather in San Francisco for you.", choice["message"]!["content"]!.GetValue<string>());
        var call = Assert.Single(choice["message"]!["tool_calls"]!.AsArray())!;
        Assert.Equal("toolu_01A09q90qw90lq917835lq9", call["id"]!.GetValue<string>());
        Assert.Equal("function", call["type"]!.GetValue<string>());
        Assert.Equal("get_weather", call["function"]!["name"]!.GetValue<string>());
        var arguments = JsonNode.Parse(call["function"]!["arguments"]!.GetValue<string>())!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"location":"San Francisco, CA","unit":"celsius"}"""), arguments));

        // input 472 + cache read 128 + cache creation 0, of which 128 cached.
        Assert.Equal(600, usage.PromptTokens);
        Assert.Equal(128, usage.CachedPromptTokens);
        Assert.Equal(89, usage.CompletionTokens);
        Assert.Equal(128, json["usage"]!["prompt_tokens_details"]!["cached_tokens"]!.GetValue<int>());
    }

    [Fact]
    public void Only_tool_use_gives_null_content_and_thinking_becomes_reasoning_content()
    {
        var (toolOnly, _) = Translate("""
            {"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[
              {"type":"tool_use","id":"toolu_1","name":"f","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":3}}
            """u8.ToArray());
        var toolMessage = toolOnly["choices"]![0]!["message"]!.AsObject();
        Assert.True(toolMessage.ContainsKey("content"));
        Assert.Null(toolMessage["content"]);
        Assert.Single(toolMessage["tool_calls"]!.AsArray());

        var (thinking, usage) = Translate("""
            {"id":"msg_2","type":"message","role":"assistant","model":"claude","content":[
              {"type":"thinking","thinking":"Let me add.","signature":"sig"},{"type":"text","text":"4"}],
             "stop_reason":"end_turn","usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"output_tokens":7}}
            """u8.ToArray());
        var message = thinking["choices"]![0]!["message"]!;
        Assert.Equal("4", message["content"]!.GetValue<string>());
        Assert.Equal("Let me add.", message["reasoning_content"]!.GetValue<string>());
        Assert.Equal("sig", message["reasoning_signature"]!.GetValue<string>());
        Assert.Equal(60, usage.PromptTokens);
        Assert.Equal(30, usage.CachedPromptTokens);
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData(null, "stop")]
    public void Stop_reasons_map_to_openai_finish_reasons(string? stopReason, string finishReason) =>
        Assert.Equal(finishReason, AnthropicResponseTranslator.FinishReason(stopReason));
}
