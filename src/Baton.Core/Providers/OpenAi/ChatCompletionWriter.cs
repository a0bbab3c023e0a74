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
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("object", "chat.completion");
            writer.WriteNumber("created", created);
            writer.WriteString("model", model);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            if (content is null) writer.WriteNull("content"); else writer.WriteString("content", content);
            if (reasoningContent is not null) writer.WriteString("reasoning_content", reasoningContent);
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
        return buffer.WrittenSpan.ToArray();
    }
}
