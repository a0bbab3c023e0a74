using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Simulation.Wire;

/// <summary>
/// Ollama's native <c>/api/chat</c>: one JSON object for a whole answer, or NDJSON lines for a stream (a
/// line per token, a tool call whole on one line, and a closing <c>done</c> line with the token counts).
/// Errors are <c>{"error":"..."}</c>.
/// </summary>
public sealed class OllamaWireFormat : ISimulatorWireFormat
{
    public string StreamContentType => "application/x-ndjson";

    public byte[] RenderCompletion(SimulatedAnswer answer) => Line(answer, w =>
    {
        WriteMessage(w, answer.ToolCall is null ? answer.Text : "", answer.ToolCall);
        WriteDone(w, answer);
    }, newline: false);

    public IEnumerable<(byte[] Frame, SimulatedChunkKind Kind)> RenderStream(SimulatedAnswer answer)
    {
        if (answer.ToolCall is { } call)
        {
            yield return (Line(answer, w => { WriteMessage(w, "", call); w.WriteBoolean("done", false); }), SimulatedChunkKind.Content);
        }
        else
        {
            foreach (var piece in answer.Pieces)
            {
                yield return (Line(answer, w => { WriteMessage(w, piece, null); w.WriteBoolean("done", false); }), SimulatedChunkKind.Content);
            }
        }
        yield return (Line(answer, w => { WriteMessage(w, "", null); WriteDone(w, answer); }), SimulatedChunkKind.Finish);
    }

    public byte[] RenderError(int status, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public byte[] MalformedFrame => "{\"model\":\"broken\",\"message\":{\"role\":\"assistant\",\"content\":\n"u8.ToArray();

    private static byte[] Line(SimulatedAnswer answer, Action<Utf8JsonWriter> writeBody, bool newline = true)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model", answer.Model);
            writer.WriteString("created_at", DateTimeOffset.FromUnixTimeSeconds(answer.Created).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
            writeBody(writer);
            writer.WriteEndObject();
        }
        if (newline)
        {
            buffer.Write("\n"u8);
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMessage(Utf8JsonWriter writer, string content, SimulatedToolCall? call)
    {
        writer.WriteStartObject("message");
        writer.WriteString("role", "assistant");
        writer.WriteString("content", content);
        if (call is not null)
        {
            // Ollama's calls carry no id, and their arguments are an object, not JSON text.
            writer.WriteStartArray("tool_calls");
            writer.WriteStartObject();
            writer.WriteStartObject("function");
            writer.WriteString("name", call.Name);
            writer.WritePropertyName("arguments");
            writer.WriteRawValue(call.ArgumentsJson);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    private static void WriteDone(Utf8JsonWriter writer, SimulatedAnswer answer)
    {
        writer.WriteBoolean("done", true);
        // A call ends with "stop" in Ollama; only a cut-off answer says otherwise.
        writer.WriteString("done_reason", answer.FinishReason == "length" ? "length" : "stop");
        writer.WriteNumber("total_duration", 0);
        // Ollama leaves the prompt count out when it is zero (a fully cached prompt).
        if (answer.Usage.PromptTokens > 0)
        {
            writer.WriteNumber("prompt_eval_count", answer.Usage.PromptTokens);
        }
        writer.WriteNumber("eval_count", answer.Usage.CompletionTokens);
    }
}
