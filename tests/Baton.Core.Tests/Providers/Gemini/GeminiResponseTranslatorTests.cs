using System.Text.Json;
using Baton.Providers;
using Baton.Providers.Gemini;

namespace Baton.Core.Tests.Providers.Gemini;

public sealed class GeminiResponseTranslatorTests
{
    private static (JsonDocument Json, TokenUsage Usage) Translate(string geminiJson)
    {
        using var response = JsonDocument.Parse(geminiJson);
        var body = GeminiResponseTranslator.Translate(response.RootElement, "gemini-fallback", 1_700_000_000, out var usage);
        return (JsonDocument.Parse(body), usage);
    }

    private static JsonElement Choice(JsonDocument json) => json.RootElement.GetProperty("choices")[0];

    [Fact]
    public void A_text_answer_keeps_id_model_and_counts_thinking_and_cache_exactly()
    {
        var (json, usage) = Translate(GeminiFixtures.Text("generate-response-basic.json"));
        using (json)
        {
            Assert.Equal("mAitaLmkBf2vz7IPq9zMwQs", json.RootElement.GetProperty("id").GetString());
            Assert.Equal("chat.completion", json.RootElement.GetProperty("object").GetString());
            Assert.Equal("gemini-2.5-flash", json.RootElement.GetProperty("model").GetString());
            Assert.Equal(1_700_000_000, json.RootElement.GetProperty("created").GetInt64());
            Assert.StartsWith("Here is a short agenda", Choice(json).GetProperty("message").GetProperty("content").GetString());
            Assert.Equal("stop", Choice(json).GetProperty("finish_reason").GetString());

            // prompt 2104 (of which 1536 cached) + candidates 58 + thoughts 124 = Gemini's total 2286.
            Assert.Equal(new TokenUsage(2104, 182, 2286, CachedPromptTokens: 1536, ReasoningTokens: 124), usage);
            var wireUsage = json.RootElement.GetProperty("usage");
            Assert.Equal(2286, wireUsage.GetProperty("total_tokens").GetInt32());
            Assert.Equal(1536, wireUsage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
            Assert.Equal(124, wireUsage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        }
    }

    [Fact]
    public void A_function_call_becomes_a_tool_call_with_object_arguments_as_text()
    {
        var (json, usage) = Translate(GeminiFixtures.Text("generate-response-function-call.json"));
        using (json)
        {
            Assert.Equal("tool_calls", Choice(json).GetProperty("finish_reason").GetString());
            var message = Choice(json).GetProperty("message");
            Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
            var call = message.GetProperty("tool_calls")[0];
            Assert.Equal("function", call.GetProperty("type").GetString());
            Assert.Equal("schedule_meeting", call.GetProperty("function").GetProperty("name").GetString());
            Assert.Equal("""{"attendees":["Bob","Alice"],"date":"2025-03-27","time":"10:00","topic":"Q3 planning"}""",
                call.GetProperty("function").GetProperty("arguments").GetString());
            // Gemini's id, with the thought signature carried along for the next turn.
            Assert.StartsWith("x7k2m9qp" + GeminiToolCallIds.Separator + "CiQB0e2K", call.GetProperty("id").GetString());
            Assert.Equal(TokenUsage.Of(187, 124, reasoning: 88), usage);
        }
    }

    [Fact]
    public void Calls_without_ids_get_call_n_ids_and_thoughts_become_reasoning_content()
    {
        var (json, _) = Translate("""
            {"candidates":[{"content":{"role":"model","parts":[
              {"text":"Weighing the options.","thought":true},{"text":"Checking both."},
              {"functionCall":{"name":"a","args":{}}},{"functionCall":{"name":"b","args":{"k":"v"}}}]},"finishReason":"STOP"}]}
            """);
        using (json)
        {
            var message = Choice(json).GetProperty("message");
            Assert.Equal("Checking both.", message.GetProperty("content").GetString());
            Assert.Equal("Weighing the options.", message.GetProperty("reasoning_content").GetString());
            Assert.Equal("call_0", message.GetProperty("tool_calls")[0].GetProperty("id").GetString());
            Assert.Equal("call_1", message.GetProperty("tool_calls")[1].GetProperty("id").GetString());
            Assert.StartsWith("chatcmpl-", json.RootElement.GetProperty("id").GetString());
            Assert.Equal("gemini-fallback", json.RootElement.GetProperty("model").GetString());
        }
    }

    [Theory]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("SAFETY", "content_filter")]
    [InlineData("RECITATION", "content_filter")]
    [InlineData("PROHIBITED_CONTENT", "content_filter")]
    [InlineData("IMAGE_SAFETY", "content_filter")]
    [InlineData("MALFORMED_FUNCTION_CALL", "stop")]
    [InlineData("OTHER", "stop")]
    public void Finish_reasons_map_to_openai_s(string gemini, string openAi)
    {
        var (json, _) = Translate($$"""{"candidates":[{"content":{"role":"model","parts":[{"text":"x"}]},"finishReason":"{{gemini}}"}]}""");
        using (json)
        {
            Assert.Equal(openAi, Choice(json).GetProperty("finish_reason").GetString());
        }
    }

    [Fact]
    public void A_blocked_prompt_is_an_empty_content_filtered_answer()
    {
        var (json, usage) = Translate("""{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9}}""");
        using (json)
        {
            Assert.Equal("content_filter", Choice(json).GetProperty("finish_reason").GetString());
            Assert.Equal("", Choice(json).GetProperty("message").GetProperty("content").GetString());
            Assert.Equal(TokenUsage.Of(9, 0), usage);
        }
    }
}
