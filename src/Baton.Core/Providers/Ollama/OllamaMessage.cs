using System.Globalization;
using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Ollama;

/// <summary>
/// What Baton reads from one Ollama answer or stream line: the message's text, thinking and tool calls,
/// whether the answer is done and why, and the token counts. The response and stream translators share it.
/// </summary>
internal sealed class OllamaMessage
{
    public string? Model { get; private init; }

    public DateTimeOffset? CreatedAt { get; private init; }

    public string Content { get; private init; } = "";

    public string Thinking { get; private init; } = "";

    /// <summary>Calls as Ollama gave them: an id when it sent one, the name, and the arguments as JSON text.</summary>
    public List<(string? Id, string Name, string ArgumentsJson)> ToolCalls { get; } = [];

    public bool Done { get; private init; }

    public string? DoneReason { get; private init; }

    /// <summary>Left out by Ollama when zero, e.g. when the whole prompt came from its cache.</summary>
    public int PromptEvalCount { get; private init; }

    public int EvalCount { get; private init; }

    /// <summary>The message of an <c>{"error":"..."}</c> body or line.</summary>
    public string? Error { get; private init; }

    public TokenUsage Usage => TokenUsage.Of(PromptEvalCount, EvalCount);

    /// <exception cref="JsonException">The text is not a JSON object.</exception>
    public static OllamaMessage Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("Expected a JSON object.");
        }
        if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
        {
            return new OllamaMessage { Error = error.ValueKind == JsonValueKind.String ? error.GetString() : error.GetRawText() };
        }
        var message = root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        var parsed = new OllamaMessage
        {
            Model = String(root, "model"),
            CreatedAt = String(root, "created_at") is { } created && DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null,
            Content = message.ValueKind == JsonValueKind.Object ? String(message, "content") ?? "" : "",
            Thinking = message.ValueKind == JsonValueKind.Object ? String(message, "thinking") ?? "" : "",
            Done = root.TryGetProperty("done", out var done) && done.ValueKind == JsonValueKind.True,
            DoneReason = String(root, "done_reason"),
            PromptEvalCount = Int(root, "prompt_eval_count"),
            EvalCount = Int(root, "eval_count"),
        };
        if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                if (call.TryGetProperty("function", out var function) && String(function, "name") is { } name)
                {
                    parsed.ToolCalls.Add((String(call, "id"), name, ArgumentsText(function)));
                }
            }
        }
        return parsed;
    }

    /// <summary>OpenAI's finish reason: a call ends with <c>stop</c> in Ollama but <c>tool_calls</c> in OpenAI.</summary>
    public static string FinishReason(bool calledTools, string? doneReason) =>
        calledTools ? "tool_calls" : doneReason == "length" ? "length" : "stop";

    /// <summary>Arguments are an object in Ollama; OpenAI clients expect them as JSON text.</summary>
    private static string ArgumentsText(JsonElement function)
    {
        if (!function.TryGetProperty("arguments", out var arguments) || arguments.ValueKind == JsonValueKind.Null)
        {
            return "{}";
        }
        if (arguments.ValueKind == JsonValueKind.String)
        {
            return arguments.GetString()!;
        }
        // Re-serialised with Baton's encoder so the text reads as the model wrote it (no \u escapes).
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, OpenAiJson.WriterOptions))
        {
            arguments.WriteTo(writer);
        }
        return System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : 0;
}
