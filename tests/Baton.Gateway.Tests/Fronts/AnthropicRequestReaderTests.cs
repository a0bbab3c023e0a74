using System.Text;
using System.Text.Json;
using Baton.Errors;
using Baton.Gateway.Fronts.Anthropic;
using Baton.Requests;

namespace Baton.Gateway.Tests.Fronts;

/// <summary>The translation of a Messages request into the engine's Chat Completions request.</summary>
public sealed class AnthropicRequestReaderTests
{
    private static JsonElement Translate(string body, bool countOnly = false)
    {
        var info = AnthropicRequestReader.Read(Encoding.UTF8.GetBytes(body), countOnly);
        // The translation is a request the engine accepts as it is.
        ChatRequestParser.Parse(info.ChatCompletionsBody);
        return JsonDocument.Parse(info.ChatCompletionsBody).RootElement;
    }

    [Fact]
    public void The_api_reference_request_translates_block_by_block()
    {
        var chat = Translate(AnthropicWire.Golden("request.json"));

        Assert.Equal("claude-sonnet-4-5", chat.GetProperty("model").GetString());
        Assert.Equal(4096, chat.GetProperty("max_tokens").GetInt32());
        var messages = chat.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["system", "user", "assistant", "tool", "user"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("You are a weather assistant.", messages[0].GetProperty("content").GetString());

        // The assistant's text and call; its thinking is for Anthropic only.
        Assert.Equal("I'll check the weather.", messages[2].GetProperty("content").GetString());
        var call = messages[2].GetProperty("tool_calls")[0];
        Assert.Equal("toolu_01A09q90qw90lq917835lq9", call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("San Francisco, CA", JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("location").GetString());
        Assert.DoesNotContain("EqQBCgIYAhIM", chat.GetRawText(), StringComparison.Ordinal);

        // The tool result first, right after the call, then the user's words and images.
        Assert.Equal("toolu_01A09q90qw90lq917835lq9", messages[3].GetProperty("tool_call_id").GetString());
        Assert.Equal("15 degrees", messages[3].GetProperty("content").GetString());
        var parts = messages[4].GetProperty("content").EnumerateArray().ToList();
        Assert.Equal("And here is a picture of the sky:", parts[0].GetProperty("text").GetString());
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("https://upload.example.org/sky.jpg", parts[2].GetProperty("image_url").GetProperty("url").GetString());

        var function = chat.GetProperty("tools")[0].GetProperty("function");
        Assert.Equal("get_weather", function.GetProperty("name").GetString());
        Assert.Equal(["celsius", "fahrenheit"], function.GetProperty("parameters").GetProperty("properties").GetProperty("unit").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("auto", chat.GetProperty("tool_choice").GetString());
        Assert.False(chat.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.Equal("\n\nHuman:", chat.GetProperty("stop")[0].GetString());
        Assert.Equal(0.95, chat.GetProperty("top_p").GetDouble());
        Assert.False(chat.TryGetProperty("top_k", out _));
        Assert.Equal("13803d75-b4b5-4c3e-b2a2-6f21399b021b", chat.GetProperty("user").GetString());
        Assert.Equal("low", chat.GetProperty("reasoning_effort").GetString());
        Assert.False(chat.TryGetProperty("stream", out _));
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"")]
    [InlineData("""{"type":"any"}""", "\"required\"")]
    [InlineData("""{"type":"none"}""", "\"none\"")]
    [InlineData("""{"type":"tool","name":"f"}""", """{"type":"function","function":{"name":"f"}}""")]
    public void Tool_choice_maps_to_chat_completions(string choice, string expected)
    {
        var chat = Translate($$$"""{"model":"m","max_tokens":5,"tool_choice":{{{choice}}},"tools":[{"name":"f","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(expected, chat.GetProperty("tool_choice").GetRawText());
    }

    [Theory]
    [InlineData(1024, "low")]
    [InlineData(4096, "medium")]
    [InlineData(20000, "high")]
    public void A_thinking_budget_is_a_reasoning_effort(int budget, string effort)
    {
        var chat = Translate($$$"""{"model":"m","max_tokens":32000,"thinking":{"type":"enabled","budget_tokens":{{{budget}}}},"messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(effort, chat.GetProperty("reasoning_effort").GetString());
    }

    [Fact]
    public void A_stream_asks_for_the_usage_and_a_failed_tool_result_says_so()
    {
        var chat = Translate("""{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"boom"}]}]}""");
        Assert.True(chat.GetProperty("stream").GetBoolean());
        Assert.True(chat.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal("Error: boom", chat.GetProperty("messages")[1].GetProperty("content").GetString());
    }

    [Fact]
    public void Server_tools_and_blocks_only_anthropic_reads_are_left_out_of_the_translation()
    {
        var chat = Translate("""{"model":"m","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"any"},"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc"}},{"type":"text","text":"hi"}]}]}""");
        Assert.False(chat.TryGetProperty("tools", out _));
        Assert.False(chat.TryGetProperty("tool_choice", out _));
        Assert.Single(chat.GetProperty("messages")[0].GetProperty("content").EnumerateArray());
    }

    [Fact]
    public void Count_tokens_needs_no_max_tokens()
    {
        var chat = Translate("""{"model":"m","messages":[{"role":"user","content":"x"}]}""", countOnly: true);
        Assert.False(chat.TryGetProperty("max_tokens", out _));
        var error = Assert.Throws<BatonException>(() => Translate("""{"model":"m","messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal("max_tokens", error.Param);
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public void A_system_message_among_the_turns_stays_a_system_message()
    {
        var chat = Translate("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"system","content":[{"type":"text","text":"Be terse."}]}]}""");
        Assert.Equal("system", chat.GetProperty("messages")[1].GetProperty("role").GetString());
        Assert.Equal("Be terse.", chat.GetProperty("messages")[1].GetProperty("content").GetString());
    }
}
