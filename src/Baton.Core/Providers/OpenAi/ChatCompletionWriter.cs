using System.Buffers;
using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>A tool call in OpenAI's shape: id, function name and arguments as JSON text.</summary>
public sealed record OpenAiToolCall(string Id, string Name, string ArgumentsJson);

/// <summary>
/// Writes a complete, non-streamed <c>chat.completion</c> object. Translators of non-OpenAI providers and
/// the simulator build their answers with it, so every answer Baton returns has the same shape.
/// </summary>
public static class ChatCompletionWriter
{
    public static byte[] Write(
        string id,
        long created,
        string model,
        string? content,
        IReadOnlyList<OpenAiToolCall>? toolCalls,
        string finishReason,
        TokenUsage usage,
        string? reasoningContent = null,
        string? reasoningSignature = null)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            Write(writer, new JsonText(id), created, model, new JsonText(content), toolCalls, finishReason, usage, new JsonText(reasoningContent), reasoningSignature);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes the same object into <paramref name="writer"/>, with the id, content and reasoning given as UTF-8 (a
    /// stream's assembled text, kept as UTF-8, is written without being decoded to a string first).
    /// </summary>
    internal static void Write(
        Utf8JsonWriter writer,
        in JsonText id,
        long created,
        string model,
        in JsonText content,
        IReadOnlyList<OpenAiToolCall>? toolCalls,
        string finishReason,
        TokenUsage usage,
        in JsonText reasoningContent,
        string? reasoningSignature = null)
    {
        writer.WriteStartObject();
        id.Write(writer, "id", nullWhenAbsent: true);
        writer.WriteString("object", "chat.completion");
        writer.WriteNumber("created", created);
        writer.WriteString("model", model);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("message");
        writer.WriteString("role", "assistant");
        content.Write(writer, "content", nullWhenAbsent: true);
        reasoningContent.Write(writer, "reasoning_content", nullWhenAbsent: false);
        // Anthropic's thinking signature (see ChatChunkWriter.ReasoningSignature).
        if (reasoningSignature is not null) writer.WriteString("reasoning_signature", reasoningSignature);
        if (toolCalls is { Count: > 0 })
        {
            writer.WriteStartArray("tool_calls");
            foreach (var call in toolCalls)
            {
                writer.WriteStartObject();
                writer.WriteString("id", call.Id);
                writer.WriteString("type", "function");
                writer.WriteStartObject("function");
                writer.WriteString("name", call.Name);
                writer.WriteString("arguments", call.ArgumentsJson);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        writer.WriteString("finish_reason", finishReason);
        writer.WriteEndObject();
        writer.WriteEndArray();
        OpenAiUsageJson.Write(writer, usage);
        writer.WriteEndObject();
    }

    /// <summary>A text field's value: a string, UTF-8 bytes, or absent.</summary>
    internal readonly ref struct JsonText
    {
        private readonly string? _string;
        private readonly ReadOnlySpan<byte> _utf8;
        private readonly bool _isUtf8;

        public JsonText(string? value) => _string = value;

        public JsonText(ReadOnlySpan<byte> utf8)
        {
            _utf8 = utf8;
            _isUtf8 = true;
        }

        /// <summary>Writes the field; an absent value is written as null or left out.</summary>
        public void Write(Utf8JsonWriter writer, string name, bool nullWhenAbsent)
        {
            if (_isUtf8)
            {
                // The writer refuses invalid UTF-8, which a decoded string would have carried as U+FFFD: the same
                // text is then written through the string, as the answer always was.
                if (System.Text.Unicode.Utf8.IsValid(_utf8))
                {
                    writer.WriteString(name, _utf8);
                }
                else
                {
                    writer.WriteString(name, System.Text.Encoding.UTF8.GetString(_utf8));
                }
            }
            else if (_string is not null)
            {
                writer.WriteString(name, _string);
            }
            else if (nullWhenAbsent)
            {
                writer.WriteNull(name);
            }
        }
    }
}
