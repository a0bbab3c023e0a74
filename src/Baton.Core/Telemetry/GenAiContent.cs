using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Baton.Telemetry;

/// <summary>
/// Prompt and answer in the shape the GenAI semantic conventions give <c>gen_ai.input.messages</c> and
/// <c>gen_ai.output.messages</c>: <c>[{"role":..., "parts":[{"type":"text","content":...}]}]</c>. Built only when
/// <c>observability.captureContent</c> is on and the span is recorded.
/// </summary>
internal static class GenAiContent
{
    /// <summary>The request's <c>messages</c>, text parts only (images and audio are named by their type, never copied).</summary>
    public static string? InputMessages(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                return null;
            }
            return Write(writer =>
            {
                writer.WriteStartArray();
                foreach (var message in messages.EnumerateArray())
                {
                    writer.WriteStartObject();
                    writer.WriteString("role", message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String ? role.GetString() : "user");
                    writer.WriteStartArray("parts");
                    if (message.TryGetProperty("content", out var content))
                    {
                        WriteParts(writer, content);
                    }
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            });
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The answer as one assistant message.</summary>
    public static string OutputMessages(string text, IReadOnlyList<string> finishReasons) => Write(writer =>
    {
        writer.WriteStartArray();
        writer.WriteStartObject();
        writer.WriteString("role", "assistant");
        writer.WriteStartArray("parts");
        writer.WriteStartObject();
        writer.WriteString("type", "text");
        writer.WriteString("content", text);
        writer.WriteEndObject();
        writer.WriteEndArray();
        if (finishReasons.Count > 0)
        {
            writer.WriteString("finish_reason", finishReasons[0]);
        }
        writer.WriteEndObject();
        writer.WriteEndArray();
    });

    private static void WriteParts(Utf8JsonWriter writer, JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteText(writer, content.GetString() ?? "");
            return;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }
        foreach (var part in content.EnumerateArray())
        {
            var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type == "text" && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                WriteText(writer, text.GetString() ?? "");
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteString("type", type ?? "unknown");
                writer.WriteEndObject();
            }
        }
    }

    private static void WriteText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "text");
        writer.WriteString("content", text);
        writer.WriteEndObject();
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
