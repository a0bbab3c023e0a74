using System.Text;
using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Anthropic;

/// <summary>Turns an Anthropic <c>message</c> into an OpenAI <c>chat.completion</c>.</summary>
public static class AnthropicResponseTranslator
{
    public static ProviderCompletion Translate(JsonElement message, long created)
    {
        var text = new StringBuilder();
        StringBuilder? thinking = null;
        string? signature = null;
        var calls = new List<OpenAiToolCall>();
        if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in content.EnumerateArray())
            {
                switch (String(block, "type"))
                {
                    case "text":
                        text.Append(String(block, "text"));
                        break;
                    case "thinking":
                        (thinking ??= new StringBuilder()).Append(String(block, "thinking"));
                        // One signature covers the answer's thinking; with several blocks the last one is kept.
                        signature = String(block, "signature") is { Length: > 0 } signed ? signed : signature;
                        break;
                    case "tool_use":
                        calls.Add(new OpenAiToolCall(
                            String(block, "id") ?? "",
                            String(block, "name") ?? "",
                            block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}"));
                        break;
                }
            }
        }
        var usage = message.TryGetProperty("usage", out var usageJson) ? AnthropicUsage.Read(usageJson).ToTokenUsage() : default;
        var body = ChatCompletionWriter.Write(
            String(message, "id") ?? "",
            created,
            String(message, "model") ?? "",
            // OpenAI sends null content beside tool calls when there is no text.
            text.Length == 0 && calls.Count > 0 ? null : text.ToString(),
            calls,
            FinishReason(String(message, "stop_reason")),
            usage,
            thinking?.ToString(),
            signature);
        return new ProviderCompletion(body, usage);
    }

    /// <summary>Anthropic's <c>stop_reason</c> in OpenAI's <c>finish_reason</c> vocabulary.</summary>
    public static string FinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        // end_turn, stop_sequence, and pause_turn (a long server-side turn paused: what came is complete).
        _ => "stop",
    };

    internal static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
