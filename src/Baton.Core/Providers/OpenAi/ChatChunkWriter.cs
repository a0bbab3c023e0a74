using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>
/// Writes <c>chat.completion.chunk</c> objects for one stream (same id, created and model on every chunk),
/// as OpenAI sends them: a role chunk, content or tool-call deltas, a chunk with the finish reason, and a
/// usage-only chunk with empty <c>choices</c>. Translators of streaming formats emit OpenAI chunks with it.
/// </summary>
/// <remarks>
/// A translated stream writes a chunk per upstream event, each written whole in one call: the thread's buffer and JSON
/// writer serve every chunk, and a chunk's only allocation is its own array. A writer that lends its chunks
/// (<c>lendsChunks</c>, for a translator that hands on each chunk before it writes the next, as an OpenAI stream's are
/// handed on) allocates not even that: each chunk is valid until the writer's next one, or, for a translator that
/// writes several chunks from one upstream event before it hands them on, until it calls <see cref="LendUntilNextEvent"/>
/// again. Texts can be given as UTF-8 (as a translator reads them from the upstream's JSON) or as strings.
/// </remarks>
public sealed class ChatChunkWriter(string id, long created, string model, bool lendsChunks = false)
{
    private static readonly JsonEncodedText RoleField = JsonEncodedText.Encode("role");
    private static readonly JsonEncodedText ContentField = JsonEncodedText.Encode("content");
    private static readonly JsonEncodedText ReasoningField = JsonEncodedText.Encode("reasoning_content");
    private static readonly JsonEncodedText SignatureField = JsonEncodedText.Encode("reasoning_signature");

    // A lending writer's chunks: one at a time, or an event's, one after another (_lentUsed bytes of them).
    private byte[] _lent = [];
    private int _lentUsed;
    private bool _lendsPerEvent;

    public string Id => id;

    /// <summary>
    /// For a lending writer: the chunks written from now on stay valid together (one upstream event's), until the next
    /// call. The buffer is reused from here on; a chunk that does not fit is written to a larger one, and those before
    /// it stay where they are.
    /// </summary>
    public void LendUntilNextEvent()
    {
        _lendsPerEvent = true;
        _lentUsed = 0;
    }

    public ReadOnlyMemory<byte> Role() => Delta(RoleField, "assistant"u8);

    public ReadOnlyMemory<byte> Content(string text) => Delta(ContentField, text);

    /// <summary><see cref="Content(string)"/> with the text as UTF-8.</summary>
    public ReadOnlyMemory<byte> Content(ReadOnlySpan<byte> utf8) => Delta(ContentField, utf8);

    public ReadOnlyMemory<byte> ReasoningContent(string text) => Delta(ReasoningField, text);

    /// <summary><see cref="ReasoningContent(string)"/> with the text as UTF-8.</summary>
    public ReadOnlyMemory<byte> ReasoningContent(ReadOnlySpan<byte> utf8) => Delta(ReasoningField, utf8);

    /// <summary>
    /// The signature of the reasoning so far (Anthropic's thinking signature), as <c>reasoning_signature</c>: clients of
    /// Chat Completions ignore it; Anthropic's Messages front passes it on, since a thinking block sent back to Anthropic
    /// must carry it.
    /// </summary>
    public ReadOnlyMemory<byte> ReasoningSignature(string signature) => Delta(SignatureField, signature);

    /// <summary><see cref="ReasoningSignature(string)"/> with the signature as UTF-8.</summary>
    public ReadOnlyMemory<byte> ReasoningSignature(ReadOnlySpan<byte> utf8) => Delta(SignatureField, utf8);

    /// <summary>The first delta of a tool call: its id and name, with the arguments so far (often empty).</summary>
    public ReadOnlyMemory<byte> ToolCallStart(int index, string callId, string name, string arguments = "")
    {
        var writer = StartDelta();
        WriteToolCallStart(writer, index);
        writer.WriteString("id", callId);
        writer.WriteString("type", "function");
        writer.WriteStartObject("function");
        writer.WriteString("name", name);
        writer.WriteString("arguments", arguments);
        return EndToolCall(writer);
    }

    public ReadOnlyMemory<byte> ToolCallArguments(int index, string fragment)
    {
        var writer = StartDelta();
        WriteToolCallStart(writer, index);
        writer.WriteStartObject("function");
        writer.WriteString("arguments", fragment);
        return EndToolCall(writer);
    }

    /// <summary><see cref="ToolCallArguments(int, string)"/> with the fragment as UTF-8.</summary>
    public ReadOnlyMemory<byte> ToolCallArguments(int index, ReadOnlySpan<byte> utf8)
    {
        var writer = StartDelta();
        WriteToolCallStart(writer, index);
        writer.WriteStartObject("function");
        writer.WriteString("arguments", utf8);
        return EndToolCall(writer);
    }

    public ReadOnlyMemory<byte> Finish(string finishReason) => EndDelta(StartDelta(), finishReason);

    public ReadOnlyMemory<byte> Usage(TokenUsage usage)
    {
        var writer = Start();
        writer.WriteStartArray("choices");
        writer.WriteEndArray();
        OpenAiUsageJson.Write(writer, usage);
        writer.WriteEndObject();
        return Written(writer);
    }

    private ReadOnlyMemory<byte> Delta(JsonEncodedText field, string text)
    {
        var writer = StartDelta();
        writer.WriteString(field, text);
        return EndDelta(writer, null);
    }

    private ReadOnlyMemory<byte> Delta(JsonEncodedText field, ReadOnlySpan<byte> utf8)
    {
        var writer = StartDelta();
        writer.WriteString(field, utf8);
        return EndDelta(writer, null);
    }

    private static void WriteToolCallStart(Utf8JsonWriter writer, int index)
    {
        writer.WriteStartArray("tool_calls");
        writer.WriteStartObject();
        writer.WriteNumber("index", index);
    }

    private ReadOnlyMemory<byte> EndToolCall(Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndArray();
        return EndDelta(writer, null);
    }

    /// <summary>The chunk's header and its one choice, up to the open <c>delta</c> object.</summary>
    private Utf8JsonWriter StartDelta()
    {
        var writer = Start();
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("delta");
        return writer;
    }

    private ReadOnlyMemory<byte> EndDelta(Utf8JsonWriter writer, string? finishReason)
    {
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        if (finishReason is null) writer.WriteNull("finish_reason"); else writer.WriteString("finish_reason", finishReason);
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        return Written(writer);
    }

    private Utf8JsonWriter Start()
    {
        var writer = ScratchJson.Start();
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "chat.completion.chunk");
        writer.WriteNumber("created", created);
        writer.WriteString("model", model);
        return writer;
    }

    private ReadOnlyMemory<byte> Written(Utf8JsonWriter writer)
    {
        var written = ScratchJson.Written(writer);
        ReadOnlyMemory<byte> chunk;
        if (lendsChunks)
        {
            var start = _lendsPerEvent ? _lentUsed : 0;
            if (_lent.Length - start < written.Length)
            {
                // The event's chunks written so far keep the old buffer.
                _lent = new byte[Math.Max(written.Length, Math.Max(2 * _lent.Length, 256))];
                start = 0;
            }
            written.CopyTo(_lent.AsSpan(start));
            chunk = _lent.AsMemory(start, written.Length);
            _lentUsed = start + written.Length;
        }
        else
        {
            chunk = written.ToArray();
        }
        ScratchJson.Trim();
        return chunk;
    }

}
