using System.Text;
using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Gemini;

/// <summary>
/// What one <c>GenerateContentResponse</c> (a whole answer, or one stream event) carries in OpenAI terms:
/// text, thought summaries, function calls, the finish reason and usage. Only the first candidate is read,
/// since Baton never asks for more than one.
/// </summary>
internal sealed class GeminiCandidate
{
    public string Text { get; private init; } = "";

    /// <summary>Parts marked <c>thought: true</c>: summaries of the model's thinking.</summary>
    public string Reasoning { get; private init; } = "";

    public List<OpenAiToolCall> ToolCalls { get; } = [];

    public string? FinishReason { get; private init; }

    /// <summary>The prompt's <c>blockReason</c> when Gemini refused it before answering.</summary>
    public string? BlockReason { get; private init; }

    public TokenUsage? Usage { get; private init; }

    public string? ResponseId { get; private init; }

    public string? ModelVersion { get; private init; }

    /// <param name="root">The response object.</param>
    /// <param name="firstCallIndex">The index of this response's first call, for the ids Baton makes up when Gemini gives none.</param>
    public static GeminiCandidate Read(JsonElement root, int firstCallIndex)
    {
        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        var calls = new List<OpenAiToolCall>();
        string? finishReason = null;
        if (root.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array && candidates.GetArrayLength() > 0)
        {
            var candidate = candidates[0];
            finishReason = OptionalString(candidate, "finishReason");
            if (candidate.TryGetProperty("content", out var content) && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in parts.EnumerateArray())
                {
                    ReadPart(part, text, reasoning, calls, firstCallIndex);
                }
            }
        }
        var result = new GeminiCandidate
        {
            Text = text.ToString(),
            Reasoning = reasoning.ToString(),
            FinishReason = finishReason,
            BlockReason = root.TryGetProperty("promptFeedback", out var feedback) ? OptionalString(feedback, "blockReason") : null,
            Usage = root.TryGetProperty("usageMetadata", out var usage) && usage.ValueKind == JsonValueKind.Object ? GeminiUsage.Read(usage) : null,
            ResponseId = OptionalString(root, "responseId"),
            ModelVersion = OptionalString(root, "modelVersion"),
        };
        result.ToolCalls.AddRange(calls);
        return result;
    }

    /// <summary>The upstream's error message when the body is an error object rather than an answer.</summary>
    public static string? ErrorMessage(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("error", out var error))
        {
            return null;
        }
        return error.ValueKind == JsonValueKind.Object ? OptionalString(error, "message") ?? error.GetRawText() : error.ToString();
    }

    private static void ReadPart(JsonElement part, StringBuilder text, StringBuilder reasoning, List<OpenAiToolCall> calls, int firstCallIndex)
    {
        if (part.TryGetProperty("functionCall", out var call))
        {
            var arguments = call.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Object ? Compact(args) : "{}";
            var id = GeminiToolCallIds.Compose(OptionalString(call, "id"), firstCallIndex + calls.Count, OptionalString(part, "thoughtSignature"));
            calls.Add(new OpenAiToolCall(id, OptionalString(call, "name") ?? "", arguments));
            return;
        }
        if (OptionalString(part, "text") is { } value)
        {
            var isThought = part.TryGetProperty("thought", out var thought) && thought.ValueKind == JsonValueKind.True;
            (isThought ? reasoning : text).Append(value);
        }
    }

    /// <summary>The arguments on one line, as OpenAI sends them, whatever the upstream's layout.</summary>
    private static string Compact(JsonElement value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            value.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
