using System.Text.Json;
using Baton.Providers;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>
/// Baton's usage in Anthropic's terms: <c>input_tokens</c> leaves out the prompt tokens read from or written to the
/// prompt cache, which Anthropic reports apart (<c>cache_read_input_tokens</c>, <c>cache_creation_input_tokens</c>).
/// </summary>
internal static class AnthropicUsageJson
{
    public static void Write(Utf8JsonWriter writer, TokenUsage usage)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("input_tokens", Math.Max(0, usage.PromptTokens - usage.CachedPromptTokens - usage.CacheWritePromptTokens));
        writer.WriteNumber("cache_creation_input_tokens", usage.CacheWritePromptTokens);
        writer.WriteNumber("cache_read_input_tokens", usage.CachedPromptTokens);
        writer.WriteNumber("output_tokens", usage.CompletionTokens);
        writer.WriteEndObject();
    }

    /// <summary>Anthropic's <c>stop_reason</c> for a Chat Completions <c>finish_reason</c>.</summary>
    public static string StopReason(string? finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary>Anthropic's message ids start with <c>msg_</c>; an id from another provider gets the prefix.</summary>
    public static string MessageId(string? id) =>
        string.IsNullOrEmpty(id) ? "msg_" + Guid.NewGuid().ToString("N") : id.StartsWith("msg_", StringComparison.Ordinal) ? id : "msg_" + id;
}
