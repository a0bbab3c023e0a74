using System.Buffers;
using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>
/// Writes <c>chat.completion.chunk</c> objects for one stream (same id, created and model on every chunk),
/// as OpenAI sends them: a role chunk, content or tool-call deltas, a chunk with the finish reason, and a
/// usage-only chunk with empty <c>choices</c>. Translators of streaming formats emit OpenAI chunks with it.
/// </summary>
public sealed class ChatChunkWriter(string id, long created, string model)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public string Id => id;

    public byte[] Role() => Write(w => w.WriteString("role", "assistant"), null);

    public byte[] Content(string text) => Write(w => w.WriteString("content", text), null);

    public byte[] ReasoningContent(string text) => Write(w => w.WriteString("reasoning_content", text), null);

    /// <summary>
    /// The signature of the reasoning so far (Anthropic's thinking signature), as <c>reasoning_signature</c>: clients of
    /// Chat Completions ignore it; Anthropic's Messages front passes it on, since a thinking block sent back to Anthropic
    /// must carry it.
    /// </summary>
    public byte[] ReasoningSignature(string signature) => Write(w => w.WriteString("reasoning_signature", signature), null);

    /// <summary>The first delta of a tool call: its id and name, with the arguments so far (often empty).</summary>
    public byte[] ToolCallStart(int index, string callId, string name, string arguments = "") => Write(w =>
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteString("id", callId);
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", name);
        w.WriteString("arguments", arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }, null);

    public byte[] ToolCallArguments(int index, string fragment) => Write(w =>
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteStartObject("function");
        w.WriteString("arguments", fragment);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }, null);

    public byte[] Finish(string finishReason) => Write(_ => { }, finishReason);

    public byte[] Usage(TokenUsage usage)
    {
        _buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_buffer, OpenAiJson.WriterOptions))
        {
            WriteHeader(writer);
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            OpenAiUsageJson.Write(writer, usage);
            writer.WriteEndObject();
        }
        return _buffer.WrittenSpan.ToArray();
    }

    private byte[] Write(Action<Utf8JsonWriter> writeDelta, string? finishReason)
    {
        _buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_buffer, OpenAiJson.WriterOptions))
        {
            WriteHeader(writer);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("delta");
            writeDelta(writer);
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            if (finishReason is null) writer.WriteNull("finish_reason"); else writer.WriteString("finish_reason", finishReason);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return _buffer.WrittenSpan.ToArray();
    }

    private void WriteHeader(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "chat.completion.chunk");
        writer.WriteNumber("created", created);
        writer.WriteString("model", model);
    }
}
