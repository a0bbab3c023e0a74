using System.Buffers;
using System.Text.Json;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>
/// Turns the engine's stream of <c>chat.completion.chunk</c> payloads into Anthropic's event stream, chunk by chunk:
/// <c>message_start</c> and a <c>ping</c> first; a content block per kind of content as it arrives (<c>thinking</c>
/// with <c>thinking_delta</c>, <c>text</c> with <c>text_delta</c>, one <c>tool_use</c> per call with
/// <c>input_json_delta</c>), each closed by <c>content_block_stop</c> when the next begins; then <c>message_delta</c>
/// with the stop reason and the usage, and <c>message_stop</c>, written only by <see cref="Finish"/>, i.e. only for an
/// answer that ended properly. A cut answer ends with an <c>error</c> event instead (<see cref="Error"/>).
/// </summary>
/// <remarks>
/// Each chunk is taken from its one reading (<see cref="StreamChunkReader"/>, done by the provider as the chunk
/// arrived), not parsed again, and its events are written by one reused <see cref="Utf8JsonWriter"/> straight into
/// the response's buffer. Only the first choice is translated: a Messages answer has one.
/// </remarks>
internal sealed class AnthropicEventWriter(IBufferWriter<byte> output) : IDisposable
{
    private readonly Dictionary<int, int> _blockByToolIndex = [];
    private readonly Utf8JsonWriter _json = new(output, OpenAiJson.WriterOptions);
    private StreamChunkReader? _reader;
    private bool _started;
    private int _blocks;
    private int? _openBlock;
    private BlockKind _openKind;
    private string? _finishReason;
    private TokenUsage? _usage;

    /// <summary>Writes the events of one chunk, from its reading when it carries one.</summary>
    /// <exception cref="JsonException">A chunk without a reading is not valid JSON.</exception>
    public void Chunk(in StreamChunk chunk)
    {
        var reading = StreamChunkReader.Of(chunk, ref _reader);
        if (!_started)
        {
            Start(reading.Id, reading.Model);
        }
        if (reading.Usage is { } usage)
        {
            _usage = usage;
        }
        if (reading.ChoiceCount <= 0)
        {
            return;
        }
        if (reading.FirstChoiceFinishReason is { } finish)
        {
            _finishReason = finish;
        }
        var texts = reading.Texts.AsSpan()[..reading.FirstChoiceTextCount];
        // Whatever order the delta's fields come in, thinking goes first, then its signature, the text, the tool calls.
        foreach (var text in texts)
        {
            if (text.Kind == ChunkTextKind.ReasoningContent && text.TextLength > 0)
            {
                Open(BlockKind.Thinking);
                Delta(_openBlock!.Value, "thinking_delta"u8, "thinking"u8, reading.TextOf(text));
            }
        }
        foreach (var text in texts)
        {
            if (text.Kind == ChunkTextKind.ReasoningSignature && text.TextLength > 0 && _openKind == BlockKind.Thinking)
            {
                // Anthropic sends the signature last in its thinking block, as this delta.
                Delta(_openBlock!.Value, "signature_delta"u8, "signature"u8, reading.TextOf(text));
            }
        }
        foreach (var text in texts)
        {
            if (text.Kind == ChunkTextKind.Content && text.TextLength > 0)
            {
                Open(BlockKind.Text);
                Delta(_openBlock!.Value, "text_delta"u8, "text"u8, reading.TextOf(text));
            }
        }
        for (var i = 0; i < texts.Length; i++)
        {
            if (texts[i].Kind == ChunkTextKind.ToolCall)
            {
                // A call's fields are the texts that follow its mark, up to the next call's.
                var end = i + 1;
                while (end < texts.Length && texts[end].Kind is ChunkTextKind.ToolId or ChunkTextKind.ToolName or ChunkTextKind.ToolArguments)
                {
                    end++;
                }
                ToolCall(reading, texts[i], texts[(i + 1)..end]);
                i = end - 1;
            }
        }
    }

    private void ToolCall(StreamChunkReader reading, in ChunkText call, ReadOnlySpan<ChunkText> fields)
    {
        var toolIndex = call.ToolIndexGiven ? call.Tool : _blockByToolIndex.Count;
        if (!_blockByToolIndex.TryGetValue(toolIndex, out var block))
        {
            var id = Last(reading, fields, ChunkTextKind.ToolId) is { } given ? given : "toolu_" + Guid.NewGuid().ToString("N");
            var name = Last(reading, fields, ChunkTextKind.ToolName) ?? "";
            CloseOpenBlock();
            block = _blocks++;
            BeginBlock(block);
            _json.WriteString("type"u8, "tool_use"u8);
            _json.WriteString("id"u8, id);
            _json.WriteString("name"u8, name);
            _json.WriteStartObject("input"u8);
            _json.WriteEndObject();
            EndBlock();
            _openBlock = block;
            _openKind = BlockKind.ToolUse;
            _blockByToolIndex[toolIndex] = block;
        }
        foreach (var field in fields)
        {
            if (field.Kind == ChunkTextKind.ToolArguments && field.TextLength > 0)
            {
                Delta(block, "input_json_delta"u8, "partial_json"u8, reading.TextOf(field));
            }
        }
    }

    /// <summary>The text of the last field of <paramref name="kind"/> (as a JSON object's last duplicate wins), decoded.</summary>
    private static string? Last(StreamChunkReader reading, ReadOnlySpan<ChunkText> fields, ChunkTextKind kind)
    {
        for (var i = fields.Length - 1; i >= 0; i--)
        {
            if (fields[i].Kind == kind)
            {
                return System.Text.Encoding.UTF8.GetString(reading.TextOf(fields[i]));
            }
        }
        return null;
    }

    /// <summary>Ends an answer that ended properly: the open block, the stop reason and usage, <c>message_stop</c>.</summary>
    public void Finish(TokenUsage? usage)
    {
        if (!_started)
        {
            Start(null, null);
        }
        CloseOpenBlock();
        var final = _usage ?? usage ?? default;
        BeginEvent("message_delta"u8);
        _json.WriteStartObject("delta"u8);
        _json.WriteString("stop_reason"u8, AnthropicUsageJson.StopReason(_finishReason));
        _json.WriteNull("stop_sequence"u8);
        _json.WriteEndObject();
        AnthropicUsageJson.Write(_json, final);
        EndEvent();
        BeginEvent("message_stop"u8);
        EndEvent();
    }

    /// <summary>Ends a cut answer: an <c>error</c> event, and never <c>message_stop</c>.</summary>
    public void Error(BatonException error)
    {
        var json = AnthropicErrors.ToUtf8(error);
        Prefix("error"u8);
        output.Write(json);
        output.Write("\n\n"u8);
    }

    private void Start(string? id, string? model)
    {
        _started = true;
        BeginEvent("message_start"u8);
        _json.WriteStartObject("message"u8);
        _json.WriteString("id"u8, AnthropicUsageJson.MessageId(id));
        _json.WriteString("type"u8, "message"u8);
        _json.WriteString("role"u8, "assistant"u8);
        _json.WriteString("model"u8, model ?? "");
        _json.WriteStartArray("content"u8);
        _json.WriteEndArray();
        _json.WriteNull("stop_reason"u8);
        _json.WriteNull("stop_sequence"u8);
        // The counts are known at the end, in message_delta; what Anthropic reports up front is not known yet.
        AnthropicUsageJson.Write(_json, default);
        _json.WriteEndObject();
        EndEvent();
        BeginEvent("ping"u8);
        EndEvent();
    }

    /// <summary>Opens a thinking or text block unless one of that kind is open already.</summary>
    private void Open(BlockKind kind)
    {
        if (_openKind == kind && _openBlock is not null)
        {
            return;
        }
        CloseOpenBlock();
        var index = _blocks++;
        BeginBlock(index);
        if (kind == BlockKind.Thinking)
        {
            _json.WriteString("type"u8, "thinking"u8);
            _json.WriteString("thinking"u8, ""u8);
            _json.WriteString("signature"u8, ""u8);
        }
        else
        {
            _json.WriteString("type"u8, "text"u8);
            _json.WriteString("text"u8, ""u8);
        }
        EndBlock();
        _openBlock = index;
        _openKind = kind;
    }

    /// <summary>Begins <c>content_block_start</c> up to the block's own fields.</summary>
    private void BeginBlock(int index)
    {
        BeginEvent("content_block_start"u8);
        _json.WriteNumber("index"u8, index);
        _json.WriteStartObject("content_block"u8);
    }

    private void EndBlock()
    {
        _json.WriteEndObject();
        EndEvent();
    }

    private void CloseOpenBlock()
    {
        if (_openBlock is int index)
        {
            BeginEvent("content_block_stop"u8);
            _json.WriteNumber("index"u8, index);
            EndEvent();
        }
        _openBlock = null;
        _openKind = BlockKind.None;
    }

    private void Delta(int index, ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, ReadOnlySpan<byte> utf8Value)
    {
        BeginEvent("content_block_delta"u8);
        _json.WriteNumber("index"u8, index);
        _json.WriteStartObject("delta"u8);
        _json.WriteString("type"u8, type);
        _json.WriteString(field, utf8Value);
        _json.WriteEndObject();
        EndEvent();
    }

    /// <summary>Writes <c>event: NAME</c>, <c>data: </c> and opens the event's object with its <c>type</c>.</summary>
    private void BeginEvent(ReadOnlySpan<byte> name)
    {
        Prefix(name);
        _json.Reset(output);
        _json.WriteStartObject();
        _json.WriteString("type"u8, name);
    }

    /// <summary>Closes the event's object and the event; the JSON goes into the response's buffer before the blank line.</summary>
    private void EndEvent()
    {
        _json.WriteEndObject();
        _json.Flush();
        output.Write("\n\n"u8);
    }

    private void Prefix(ReadOnlySpan<byte> name)
    {
        output.Write("event: "u8);
        output.Write(name);
        output.Write("\ndata: "u8);
    }

    /// <summary>Returns the reading's pooled buffer; the events already written stay in the response's buffer.</summary>
    public void Dispose()
    {
        // Anything half-written by an event that failed is dropped, not flushed after the stream's end.
        _json.Reset();
        _json.Dispose();
        _reader?.Dispose();
    }

    private enum BlockKind
    {
        None,
        Thinking,
        Text,
        ToolUse,
    }
}
