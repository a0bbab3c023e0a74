using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Anthropic;

/// <summary>
/// Reads Anthropic's event stream and yields OpenAI chunks, event by event: <c>message_start</c> gives the
/// role chunk, block deltas give content, reasoning or tool-call argument chunks, <c>message_delta</c> the
/// finish reason, and <c>message_stop</c> the usage-only chunk and the normal end. A body that ends before
/// <c>message_stop</c>, or an <c>error</c> event, is an interrupted stream.
/// </summary>
public sealed class AnthropicStreamTranslator(string provider, Stream body, long created, SecretRedactor redactor, IDisposable? owner = null) : ProviderStream
{
    // From the pool (a stream's reader is an object it need not make), and given back when the stream is disposed of.
    private readonly SseEventReader _reader = SseEventReader.Rent(body);
    // The one reading of each chunk written: the scrubber, the engine, the cache and the span take it from here.
    private readonly StreamChunkReader _chunk = StreamChunkReader.Pool.Get();
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private ChatChunkWriter? _writer;
    private AnthropicUsage _usage;
    private readonly EventStrings _strings = new();
    private int _disposed;

    public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var enumerator = _reader.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (await MoveNextAsync(enumerator).ConfigureAwait(false))
            {
                var item = enumerator.Current;
                if (item.Data.IsEmpty)
                {
                    continue;
                }
                var (chunk, finished) = Translate(item.EventType, item.Data);
                if (!chunk.IsEmpty)
                {
                    _chunk.Read(chunk);
                    yield return new StreamChunk(chunk, IsUsageOnly: finished, _chunk);
                }
                if (finished)
                {
                    yield break;
                }
            }
        }
        throw UpstreamErrors.StreamInterrupted(provider, "the upstream closed the stream before message_stop.");
    }

    /// <summary>
    /// One event as at most one OpenAI chunk; <c>Finished</c> is true for <c>message_stop</c>. An event that is
    /// not JSON, or JSON in a shape Anthropic does not send, is a malformed answer, as in the other formats.
    /// </summary>
    private (ReadOnlyMemory<byte> Chunk, bool Finished) Translate(string eventType, ReadOnlyMemory<byte> data) =>
        ReadsInOnePass && TryTranslateInOnePass(eventType, data.Span, out var chunk, out var finished) ? (chunk, finished) : TranslateDocument(eventType, data);

    /// <summary>False for the document's reading alone, which the one pass must agree with (the tests compare them).</summary>
    internal bool ReadsInOnePass { get; init; } = true;

    /// <summary><see cref="Translate"/> of any event, through a document: the rule for every shape and every error.</summary>
    private (ReadOnlyMemory<byte> Chunk, bool Finished) TranslateDocument(string eventType, ReadOnlyMemory<byte> data) =>
        UpstreamJson.Read(provider, "a stream event", data, root =>
            // The payload names its type too; it is the one to trust when a proxy dropped the event: lines.
            (AnthropicResponseTranslator.String(root, "type") ?? eventType) switch
            {
                "message_start" => (Start(root), false),
                "content_block_start" => (BlockStart(root), false),
                "content_block_delta" => (BlockDelta(root), false),
                "message_delta" => (MessageDelta(root), false),
                "message_stop" => (Stop(), true),
                "error" => throw Error(root),
                // ping, content_block_stop, and event types added after this was written.
                _ => (ReadOnlyMemory<byte>.Empty, false),
            });

    /// <summary>
    /// A stream's events read in one pass over their bytes (<see cref="AnthropicStreamEvent"/>), as the document's
    /// reading reads them: the message's start, the blocks' starts and deltas (nearly every event: the answer comes in
    /// them), the final usage and stop reason, the stop, and the events that carry nothing. False for <c>error</c>
    /// events, for types added later, and for what this pass leaves to the general reading (which then decides, with
    /// its errors): text that is not JSON, a delta, message or block that is missing or not an object, a <c>usage</c>
    /// that is not an object, an argument fragment or tool block without a numeric index, any event before
    /// <c>message_start</c>.
    /// </summary>
    private bool TryTranslateInOnePass(string eventType, ReadOnlySpan<byte> data, out ReadOnlyMemory<byte> chunk, out bool finished)
    {
        chunk = default;
        finished = false;
        try
        {
            if (!AnthropicStreamEvent.TryRead(data, _strings, out var read))
            {
                return false;
            }
            if (read.Is("message_start"u8, eventType))
            {
                if (!read.HasMessage)
                {
                    return false;
                }
                chunk = StartWith(Encoding.UTF8.GetString(read.MessageId), Encoding.UTF8.GetString(read.MessageModel),
                    read.MessageUsage is { } counts ? AnthropicUsage.Read(counts) : null);
                return true;
            }
            if (_writer is null)
            {
                return false;
            }
            if (read.Is("content_block_delta"u8, eventType))
            {
                return read.HasDelta && TryBlockDelta(read, out chunk);
            }
            if (read.Is("ping"u8, eventType) || read.Is("content_block_stop"u8, eventType))
            {
                return true;
            }
            if (read.Is("content_block_start"u8, eventType))
            {
                return read.HasBlock && TryBlockStart(read, out chunk);
            }
            if (read.Is("message_delta"u8, eventType))
            {
                chunk = Finish(read.Usage, read.StopReason.IsEmpty ? null : Encoding.UTF8.GetString(read.StopReason));
                return true;
            }
            if (read.Is("message_stop"u8, eventType))
            {
                (chunk, finished) = (Stop(), true);
                return true;
            }
            // error, and types added after this was written.
            return false;
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON, or text that is not UTF-8: the general reading names the error.
            return false;
        }
    }

    private bool TryBlockDelta(in AnthropicStreamEvent read, out ReadOnlyMemory<byte> chunk)
    {
        chunk = default;
        var kind = read.DeltaType;
        if (kind.SequenceEqual("text_delta"u8))
        {
            chunk = Writer.Content(read.Text);
        }
        else if (kind.SequenceEqual("thinking_delta"u8))
        {
            chunk = Writer.ReasoningContent(read.Thinking);
        }
        else if (kind.SequenceEqual("input_json_delta"u8) && !read.PartialJson.IsEmpty)
        {
            if (read.Index < 0)
            {
                return false;
            }
            chunk = _toolIndexByBlock.TryGetValue(read.Index, out var toolIndex) ? Writer.ToolCallArguments(toolIndex, read.PartialJson) : default;
        }
        else if (kind.SequenceEqual("signature_delta"u8) && !read.Signature.IsEmpty)
        {
            chunk = Writer.ReasoningSignature(read.Signature);
        }
        return true;
    }

    private bool TryBlockStart(in AnthropicStreamEvent read, out ReadOnlyMemory<byte> chunk)
    {
        chunk = default;
        var kind = read.BlockType;
        if (kind.SequenceEqual("tool_use"u8))
        {
            if (read.Index < 0)
            {
                return false;
            }
            chunk = ToolCallStart(read.Index, Encoding.UTF8.GetString(read.BlockId), Encoding.UTF8.GetString(read.BlockName));
        }
        else if (kind.SequenceEqual("text"u8) && !read.BlockText.IsEmpty)
        {
            chunk = Writer.Content(read.BlockText);
        }
        else if (kind.SequenceEqual("thinking"u8) && !read.BlockThinking.IsEmpty)
        {
            chunk = Writer.ReasoningContent(read.BlockThinking);
        }
        return true;
    }

    private ReadOnlyMemory<byte> Start(JsonElement root)
    {
        var message = root.GetProperty("message");
        return StartWith(
            AnthropicResponseTranslator.String(message, "id") ?? "",
            AnthropicResponseTranslator.String(message, "model") ?? "",
            message.TryGetProperty("usage", out var usage) ? AnthropicUsage.Read(usage) : null);
    }

    /// <summary>The stream's start: its writer, the usage so far (when the message carries one), and the role chunk.</summary>
    private ReadOnlyMemory<byte> StartWith(string id, string model, AnthropicUsage? usage)
    {
        // Each chunk is handed on before the next event is read.
        _writer = new ChatChunkWriter(id, created, model, lendsChunks: true);
        if (usage is { } known)
        {
            _usage = known;
        }
        return _writer.Role();
    }

    private ReadOnlyMemory<byte> BlockStart(JsonElement root)
    {
        var block = root.GetProperty("content_block");
        switch (AnthropicResponseTranslator.String(block, "type"))
        {
            case "tool_use":
                return ToolCallStart(root.GetProperty("index").GetInt32(), AnthropicResponseTranslator.String(block, "id") ?? "", AnthropicResponseTranslator.String(block, "name") ?? "");
            case "text" when AnthropicResponseTranslator.String(block, "text") is { Length: > 0 } text:
                return Writer.Content(text);
            case "thinking" when AnthropicResponseTranslator.String(block, "thinking") is { Length: > 0 } thinking:
                return Writer.ReasoningContent(thinking);
            default:
                return default;
        }
    }

    private ReadOnlyMemory<byte> ToolCallStart(int blockIndex, string id, string name)
    {
        // OpenAI numbers tool calls from 0 whatever text blocks come before them.
        var toolIndex = _toolIndexByBlock.Count;
        _toolIndexByBlock[blockIndex] = toolIndex;
        return Writer.ToolCallStart(toolIndex, id, name);
    }

    private ReadOnlyMemory<byte> BlockDelta(JsonElement root)
    {
        var delta = root.GetProperty("delta");
        switch (AnthropicResponseTranslator.String(delta, "type"))
        {
            case "text_delta":
                return Writer.Content(AnthropicResponseTranslator.String(delta, "text") ?? "");
            case "thinking_delta":
                return Writer.ReasoningContent(AnthropicResponseTranslator.String(delta, "thinking") ?? "");
            case "input_json_delta" when AnthropicResponseTranslator.String(delta, "partial_json") is { Length: > 0 } fragment
                && _toolIndexByBlock.TryGetValue(root.GetProperty("index").GetInt32(), out var toolIndex):
                return Writer.ToolCallArguments(toolIndex, fragment);
            case "signature_delta" when AnthropicResponseTranslator.String(delta, "signature") is { Length: > 0 } signature:
                return Writer.ReasoningSignature(signature);
            default:
                // citations_delta, empty argument fragments: nothing for an OpenAI client.
                return default;
        }
    }

    private ReadOnlyMemory<byte> MessageDelta(JsonElement root)
    {
        if (root.TryGetProperty("usage", out var usage))
        {
            _usage = _usage.Update(usage);
        }
        return Finish(null, root.TryGetProperty("delta", out var delta) ? AnthropicResponseTranslator.String(delta, "stop_reason") : null);
    }

    /// <summary>The finish chunk, the usage updated first with what the event carries.</summary>
    private ReadOnlyMemory<byte> Finish(UsageCounts? usage, string? stopReason)
    {
        if (usage is { } counts)
        {
            _usage = _usage.Update(counts);
        }
        return Writer.Finish(AnthropicResponseTranslator.FinishReason(stopReason));
    }

    private ReadOnlyMemory<byte> Stop()
    {
        var usage = _usage.ToTokenUsage();
        Usage = usage;
        return Writer.Usage(usage);
    }

    private Errors.BatonException Error(JsonElement root)
    {
        var error = root.TryGetProperty("error", out var detail) ? detail : root;
        var kind = AnthropicResponseTranslator.String(error, "type") ?? "error";
        var message = AnthropicResponseTranslator.String(error, "message") ?? "no details";
        return UpstreamErrors.StreamInterrupted(provider, redactor.Redact($"{kind}: {message}"));
    }

    /// <summary>Every event but ping comes after message_start; one that does not is a broken stream.</summary>
    private ChatChunkWriter Writer => _writer ?? throw UpstreamErrors.StreamInterrupted(provider, "the stream did not begin with message_start.");

    private ValueTask<bool> MoveNextAsync(IAsyncEnumerator<SseEventReader.SseEvent> events)
    {
        // Disposed of, the stream has given its reader back: it may be another stream's by now.
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return UpstreamStreamReader.MoveNextAsync(events, provider, redactor);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        SseEventReader.Return(_reader);
        StreamChunkReader.Pool.Return(_chunk);
        _strings.Dispose();
        await body.DisposeAsync().ConfigureAwait(false);
        owner?.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
