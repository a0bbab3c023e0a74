using System.Buffers;
using System.Text.Json;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Caching;

/// <summary>
/// Rebuilds a whole <c>chat.completion</c> from the chunks of a stream (content, reasoning, tool calls by
/// index, finish reason, usage), so that a streamed answer can be stored and later served either way. Takes
/// each chunk from its one reading (<see cref="StreamChunkReader"/>) and keeps the texts as UTF-8 in pooled
/// buffers until the answer is written.
/// </summary>
public sealed class StreamAssembler : IDisposable
{
    private Utf8TextBuffer _content;
    private Utf8TextBuffer _reasoning;
    // Made at the first tool call: most answers have none.
    private SortedDictionary<int, ToolCallParts>? _toolCalls;
    private StreamChunkReader? _reader;
    // The id as UTF-8, written back into the stored answer as it came: never decoded to a string.
    private Utf8TextBuffer _id;
    private bool _hasId;
    private string? _model;
    private long _created;
    private bool _idRead;

    /// <summary>The last finish reason a choice gave; null while the stream has not finished.</summary>
    public string? FinishReason { get; private set; }

    /// <summary>Takes one chunk given as its bytes (read here).</summary>
    /// <exception cref="System.Text.Json.JsonException">The chunk is not valid JSON.</exception>
    public void Add(ReadOnlyMemory<byte> chunk) => Add(new StreamChunk(chunk, IsUsageOnly: false));

    /// <summary>Takes one chunk, from its reading when it carries one.</summary>
    /// <exception cref="System.Text.Json.JsonException">A chunk without a reading is not valid JSON.</exception>
    public void Add(in StreamChunk chunk)
    {
        var reading = StreamChunkReader.Of(chunk, ref _reader);
        if (!_idRead)
        {
            // The id and model are taken once, from the first chunk that names them.
            _hasId = _hasId || reading.AppendId(ref _id);
            _model ??= reading.Model;
            _idRead = _hasId && _model is not null;
        }
        if (_created == 0)
        {
            _created = reading.Created;
        }
        if (reading.FinishReasonCount > 0)
        {
            FinishReason = reading.FinishReason(reading.FinishReasonCount - 1);
        }
        var unindexedOrdinal = -1;
        var unindexedKey = 0;
        foreach (var text in reading.Texts)
        {
            switch (text.Kind)
            {
                case ChunkTextKind.ToolCallStart:
                    unindexedOrdinal = -1;
                    break;
                case ChunkTextKind.Content:
                    _content.Append(reading.TextOf(text));
                    break;
                case ChunkTextKind.ReasoningContent:
                    _reasoning.Append(reading.TextOf(text));
                    break;
                case ChunkTextKind.ToolId:
                    Call(text, ref unindexedOrdinal, ref unindexedKey).Id = Utf8(reading.TextOf(text));
                    break;
                case ChunkTextKind.ToolName:
                    Call(text, ref unindexedOrdinal, ref unindexedKey).Name = Utf8(reading.TextOf(text));
                    break;
                case ChunkTextKind.ToolArguments:
                    Call(text, ref unindexedOrdinal, ref unindexedKey).Arguments.Append(reading.TextOf(text));
                    break;
            }
        }
    }

    /// <summary>The assembled answer, or null when the stream never finished.</summary>
    public byte[]? ToCompletion(TokenUsage usage)
    {
        var written = WriteCompletion(usage);
        return written.IsEmpty ? null : written.ToArray();
    }

    /// <summary>
    /// The assembled answer written into a buffer this thread reuses, valid until the thread writes the next one (so
    /// it is used at once, without awaiting in between, and copied if kept); empty when the stream never finished.
    /// A stream's answer is written whether it is stored or not, and usually it is not (an equal answer is held
    /// already): only the store copies it.
    /// </summary>
    internal ReadOnlyMemory<byte> WriteCompletion(TokenUsage usage)
    {
        if (FinishReason is null)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        List<OpenAiToolCall>? calls = null;
        if (_toolCalls is { Count: > 0 })
        {
            calls = new List<OpenAiToolCall>(_toolCalls.Count);
            foreach (var call in _toolCalls.Values)
            {
                calls.Add(new OpenAiToolCall(call.Id, call.Name, call.Arguments.ToString()));
            }
        }
        var buffer = CompletionBuffer.Take();
        var writer = buffer.Start();
        ChatCompletionWriter.Write(
            writer,
            _hasId ? new ChatCompletionWriter.JsonText(_id.Bytes) : new ChatCompletionWriter.JsonText("chatcmpl-cached"),
            _created,
            _model ?? "",
            calls is not null && _content.Length == 0 ? default : new ChatCompletionWriter.JsonText(_content.Bytes),
            calls,
            FinishReason,
            usage,
            _reasoning.Length > 0 ? new ChatCompletionWriter.JsonText(_reasoning.Bytes) : default);
        return buffer.Finish();
    }

    /// <summary>Returns the pooled buffers; the assembler is empty afterwards.</summary>
    public void Dispose()
    {
        _id.Dispose();
        _content.Dispose();
        _reasoning.Dispose();
        if (_toolCalls is not null)
        {
            foreach (var call in _toolCalls.Values)
            {
                call.Arguments.Dispose();
            }
            _toolCalls.Clear();
        }
        _reader?.Dispose();
    }

    /// <summary>
    /// The call a tool-call text belongs to: by its index, or, for a call without one, a new call per call object
    /// (<paramref name="ordinal"/> and <paramref name="index"/> remember the last such object of the chunk).
    /// </summary>
    private ToolCallParts Call(in ChunkText text, ref int ordinal, ref int index)
    {
        int key;
        if (text.ToolIndexGiven)
        {
            key = text.Tool;
        }
        else if (text.Tool == ordinal)
        {
            key = index;
        }
        else
        {
            key = _toolCalls?.Count ?? 0;
            ordinal = text.Tool;
            index = key;
        }
        _toolCalls ??= [];
        if (!_toolCalls.TryGetValue(key, out var parts))
        {
            parts = new ToolCallParts();
            _toolCalls[key] = parts;
        }
        return parts;
    }

    private static string Utf8(ReadOnlySpan<byte> text) => System.Text.Encoding.UTF8.GetString(text);

    private sealed class ToolCallParts
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        // A field, not a property: the buffer is a struct appended to in place.
        public Utf8TextBuffer Arguments;
    }

    /// <summary>
    /// The buffer and writer an assembled answer is written with, one per thread: every stream stored in the cache
    /// writes its answer, and a fresh buffer and writer per stream were most of what storing it allocated.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
        Justification = "A Utf8JsonWriter over a buffer writer holds nothing unmanaged; it lives as long as its thread.")]
    private sealed class CompletionBuffer
    {
        /// <summary>A buffer grown past this by an unusually long answer is not kept.</summary>
        private const int KeptCapacity = 64 * 1024;

        [ThreadStatic]
        private static CompletionBuffer? t_buffer;

        private readonly ArrayBufferWriter<byte> _bytes = new(1024);
        private readonly Utf8JsonWriter _writer;

        private CompletionBuffer() => _writer = new Utf8JsonWriter(_bytes, OpenAiJson.WriterOptions);

        /// <summary>
        /// This thread's buffer, taken until <see cref="Finish"/>: a write that throws drops it rather than leave a
        /// half-written object for the next answer.
        /// </summary>
        public static CompletionBuffer Take()
        {
            var buffer = t_buffer ?? new CompletionBuffer();
            t_buffer = null;
            return buffer;
        }

        public Utf8JsonWriter Start()
        {
            _bytes.ResetWrittenCount();
            _writer.Reset(_bytes);
            return _writer;
        }

        /// <summary>What was written, lent until this thread's next answer; the buffer goes back to the thread.</summary>
        public ReadOnlyMemory<byte> Finish()
        {
            _writer.Flush();
            var written = _bytes.WrittenMemory;
            if (_bytes.Capacity <= KeptCapacity)
            {
                t_buffer = this;
            }
            return written;
        }
    }
}
