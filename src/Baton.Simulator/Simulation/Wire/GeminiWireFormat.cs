using System.Buffers;
using System.Text.Json;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Simulation.Wire;

/// <summary>
/// The Gemini Developer API as the simulator speaks it: a <c>GenerateContentResponse</c>, or one per SSE event
/// holding only the new parts, with usage as running totals on every event and the finish reason on the last.
/// Events are separated by <c>\r\n\r\n</c>, as on Google's wire.
/// </summary>
public sealed class GeminiWireFormat : ISimulatorWireFormat
{
    private const string RetryInfoType = "type.googleapis.com/google.rpc.RetryInfo";

    public string StreamContentType => "text/event-stream";

    public byte[] RenderCompletion(SimulatedAnswer answer) => Render(writer => WriteResponse(
        writer,
        answer,
        w =>
        {
            if (answer.ToolCall is { } call) WriteFunctionCall(w, call); else WriteText(w, answer.Text);
        },
        FinishReason(answer.FinishReason),
        answer.Usage));

    public IEnumerable<(byte[] Frame, SimulatedChunkKind Kind)> RenderStream(SimulatedAnswer answer)
    {
        var visible = answer.Usage.CompletionTokens - answer.Usage.ReasoningTokens;
        if (answer.ToolCall is { } call)
        {
            // Gemini sends a function call whole, in one event.
            yield return (Event(writer => WriteResponse(writer, answer, w => WriteFunctionCall(w, call), null, answer.Usage)), SimulatedChunkKind.Content);
        }
        else
        {
            for (var i = 0; i < answer.Pieces.Count; i++)
            {
                var piece = answer.Pieces[i];
                var soFar = RunningUsage(answer.Usage, visible * (i + 1) / answer.Pieces.Count);
                yield return (Event(writer => WriteResponse(writer, answer, w => WriteText(w, piece), null, soFar)), SimulatedChunkKind.Content);
            }
        }
        // As Gemini 3 does: the finish reason arrives on its own, with an empty text part.
        yield return (Event(writer => WriteResponse(writer, answer, w => WriteText(w, ""), FinishReason(answer.FinishReason), answer.Usage)), SimulatedChunkKind.Finish);
    }

    public byte[] RenderError(int status, string message) => RenderError(status, message, retryAfterSeconds: null);

    public byte[] RenderRateLimit(string message, int retryAfterSeconds) => RenderError(429, message, retryAfterSeconds);

    public byte[] MalformedFrame => "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \r\n\r\n"u8.ToArray();

    private static byte[] RenderError(int status, string message, int? retryAfterSeconds) => Render(writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteNumber("code", status);
        writer.WriteString("message", message);
        writer.WriteString("status", StatusName(status));
        if (retryAfterSeconds is int seconds)
        {
            writer.WriteStartArray("details");
            writer.WriteStartObject();
            writer.WriteString("@type", RetryInfoType);
            writer.WriteString("retryDelay", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + "s");
            writer.WriteEndObject();
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    });

    /// <summary>The google.rpc status name Gemini puts beside the HTTP code.</summary>
    private static string StatusName(int status) => status switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };

    private static string FinishReason(string openAi) => openAi switch
    {
        "length" => "MAX_TOKENS",
        "content_filter" => "SAFETY",
        // Gemini has no tool_calls reason: a function call ends with STOP.
        _ => "STOP",
    };

    /// <summary>Usage after <paramref name="visibleSoFar"/> visible tokens; thinking happens before the first one.</summary>
    private static TokenUsage RunningUsage(TokenUsage total, int visibleSoFar) =>
        TokenUsage.Of(total.PromptTokens, visibleSoFar + total.ReasoningTokens, total.CachedPromptTokens, total.ReasoningTokens);

    private static void WriteResponse(Utf8JsonWriter writer, SimulatedAnswer answer, Action<Utf8JsonWriter> writePart, string? finishReason, TokenUsage usage)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("candidates");
        writer.WriteStartObject();
        writer.WriteStartObject("content");
        writer.WriteStartArray("parts");
        writePart(writer);
        writer.WriteEndArray();
        writer.WriteString("role", "model");
        writer.WriteEndObject();
        if (finishReason is not null) writer.WriteString("finishReason", finishReason);
        writer.WriteNumber("index", 0);
        writer.WriteEndObject();
        writer.WriteEndArray();
        WriteUsage(writer, usage);
        writer.WriteString("modelVersion", answer.Model);
        writer.WriteString("responseId", answer.Id);
        writer.WriteEndObject();
    }

    /// <summary>Gemini's counts: thinking apart from the visible answer, cached within the prompt, zeros left out.</summary>
    private static void WriteUsage(Utf8JsonWriter writer, TokenUsage usage)
    {
        writer.WriteStartObject("usageMetadata");
        writer.WriteNumber("promptTokenCount", usage.PromptTokens);
        var candidates = usage.CompletionTokens - usage.ReasoningTokens;
        if (candidates > 0) writer.WriteNumber("candidatesTokenCount", candidates);
        writer.WriteNumber("totalTokenCount", usage.TotalTokens);
        if (usage.CachedPromptTokens > 0) writer.WriteNumber("cachedContentTokenCount", usage.CachedPromptTokens);
        if (usage.ReasoningTokens > 0) writer.WriteNumber("thoughtsTokenCount", usage.ReasoningTokens);
        writer.WriteEndObject();
    }

    private static void WriteText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("text", text);
        writer.WriteEndObject();
    }

    private static void WriteFunctionCall(Utf8JsonWriter writer, SimulatedToolCall call)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("functionCall");
        writer.WriteString("name", call.Name);
        writer.WritePropertyName("args");
        using (var arguments = JsonDocument.Parse(call.ArgumentsJson))
        {
            arguments.RootElement.WriteTo(writer);
        }
        writer.WriteString("id", call.Id);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static byte[] Event(Action<Utf8JsonWriter> write) => [.. "data: "u8, .. Render(write), .. "\r\n\r\n"u8];

    private static byte[] Render(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
