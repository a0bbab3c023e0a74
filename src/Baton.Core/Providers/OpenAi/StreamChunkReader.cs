using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.ObjectPool;

namespace Baton.Providers.OpenAi;

/// <summary>
/// One forward pass over an OpenAI <c>chat.completion.chunk</c> that yields what every reader of a stream needs:
/// the provider (validity, usage, finish, an error sent in place of the answer), the key scrubber and the
/// engine's resume tap (the text of each choice and tool call), the response cache (id, model, created, finish
/// reason, tool calls) and the span (id, model, finish reasons). A stream reads each chunk once with one
/// instance and hands it on with the chunk (<see cref="StreamChunk.Reading"/>), so no consumer parses it again.
/// </summary>
/// <remarks>
/// What a read found is valid until the next <see cref="Read"/>, like the chunk's bytes. Texts are kept as
/// UTF-8: a string without escapes is the chunk's own bytes; an escaped one is unescaped into one pooled buffer
/// the instance reuses from chunk to chunk. Not thread-safe: one instance per stream.
/// </remarks>
public sealed class StreamChunkReader : IDisposable, IResettable
{
    // Pooled: cleared for every chunk, and returned when the stream's reader is disposed of.
    private PooledValueList<ChunkText> _texts;
    private PooledValueList<int> _finishReasons;
    private byte[] _unescaped = [];
    private int _unescapedUsed;
    private ReadOnlyMemory<byte> _json;
    private TokenRange _id;
    private TokenRange _model;
    private string? _idText;
    private string? _modelText;
    private int _firstChoiceTexts;
    private int _firstChoiceFinish;

    /// <summary>The chunk last read.</summary>
    public ReadOnlyMemory<byte> Json => _json;

    /// <summary>The usage object, when the chunk has one.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>The chunk has usage and an empty <c>choices</c> array (the final usage chunk).</summary>
    public bool IsUsageOnly => ChoiceCount == 0 && Usage is not null;

    /// <summary>A choice has a <c>finish_reason</c>.</summary>
    public bool HasFinishReason => _finishReasons.Count > 0;

    /// <summary>The message of an <c>error</c> object sent in place of an answer.</summary>
    public string? ErrorMessage { get; private set; }

    /// <summary>The number of entries in <c>choices</c>; -1 when the chunk has no <c>choices</c> array.</summary>
    public int ChoiceCount { get; private set; }

    /// <summary>The chunk's <c>created</c> time in Unix seconds; 0 when it has none.</summary>
    public long Created { get; private set; }

    /// <summary>The texts of the chunk's choices and tool calls, in document order.</summary>
    public ChunkTexts Texts => new(_texts.Items, _texts.Count);

    /// <summary>The same findings as <see cref="OpenAiPayloadInspector.Inspect"/> gives.</summary>
    public OpenAiPayloadInspector.Findings Findings => new(Usage, IsUsageOnly, HasFinishReason, ErrorMessage, ChoiceCount);

    /// <summary>
    /// The chunk's <c>id</c>, decoded once per chunk however many readers ask (a recorded span takes it from a
    /// stream's first chunk; the cache takes its bytes, <see cref="AppendId"/>); read it once per stream.
    /// </summary>
    public string? Id => _idText ??= Decode(_id);

    /// <summary>
    /// Appends the chunk's <c>id</c>, unescaped UTF-8, to <paramref name="into"/>; false when the chunk has none. An id
    /// without escapes, as upstreams send them, is copied as it is, without a string being made.
    /// </summary>
    internal bool AppendId(ref Utf8TextBuffer into)
    {
        if (_id.End == 0)
        {
            return false;
        }
        var token = _json.Span[_id.Start.._id.End];
        if (token.IndexOf((byte)'\\') < 0)
        {
            into.Append(token[1..^1]);
        }
        else
        {
            into.Append(Encoding.UTF8.GetBytes(Id!));
        }
        return true;
    }

    /// <summary>
    /// The chunk's <c>model</c>, decoded once per chunk however many readers ask; read it once per stream. A name
    /// without escapes is a shared string (<see cref="ModelNames"/>): the same model in every answer costs none.
    /// </summary>
    public string? Model => _modelText ??= DecodeModel();

    /// <summary>
    /// How many of <see cref="Texts"/> belong to the first entry of <c>choices</c> (they come first): what a front
    /// that answers with one choice (Anthropic Messages, Responses) translates.
    /// </summary>
    public int FirstChoiceTextCount => _firstChoiceTexts;

    /// <summary>The first entry of <c>choices</c>' <c>finish_reason</c>, decoded; null when it gives none.</summary>
    public string? FirstChoiceFinishReason => _firstChoiceFinish < 0 ? null : StringAt(_firstChoiceFinish);

    /// <summary>The number of finish reasons the chunk's choices give.</summary>
    public int FinishReasonCount => _finishReasons.Count;

    /// <summary>The <paramref name="index"/>th finish reason, decoded.</summary>
    public string FinishReason(int index) => StringAt(_finishReasons[index]);

    private string StringAt(int start)
    {
        var reader = new Utf8JsonReader(_json.Span[start..]);
        reader.Read();
        // The finish reasons OpenAI defines are the same few words in every stream: no string is made for them.
        if (!reader.ValueIsEscaped && KnownString(reader.ValueSpan) is { } known)
        {
            return known;
        }
        return reader.GetString() ?? "";
    }

    private static string? KnownString(ReadOnlySpan<byte> value) => value switch
    {
        _ when value.SequenceEqual("stop"u8) => "stop",
        _ when value.SequenceEqual("length"u8) => "length",
        _ when value.SequenceEqual("tool_calls"u8) => "tool_calls",
        _ when value.SequenceEqual("content_filter"u8) => "content_filter",
        _ when value.SequenceEqual("function_call"u8) => "function_call",
        _ => null,
    };

    /// <summary>The UTF-8 text of one of <see cref="Texts"/>, unescaped.</summary>
    public ReadOnlySpan<byte> TextOf(in ChunkText text) => text.Escaped
        ? _unescaped.AsSpan(text.TextStart, text.TextLength)
        : _json.Span.Slice(text.TextStart, text.TextLength);

    /// <summary>
    /// The reading of <paramref name="chunk"/>: the one it carries when it describes these very bytes, otherwise a
    /// fresh read with <paramref name="own"/> (created on first use), for chunks that were rewritten or built on
    /// the way (a scrubbed key, a translated provider, a replay, the usage of a resumed stream).
    /// </summary>
    /// <exception cref="JsonException">The chunk is not valid JSON.</exception>
    public static StreamChunkReader Of(in StreamChunk chunk, ref StreamChunkReader? own)
    {
        if (chunk.Reading is { } reading && reading._json.Equals(chunk.Json))
        {
            return reading;
        }
        own ??= new StreamChunkReader();
        own.Read(chunk.Json);
        return own;
    }

    /// <summary>Reads a chunk, replacing what the last read found.</summary>
    /// <exception cref="JsonException">The chunk is not valid JSON, or not an object.</exception>
    public void Read(ReadOnlyMemory<byte> json)
    {
        Forget();
        _json = json;
        try
        {
            ReadChunk(json.Span);
        }
        catch (InvalidOperationException ex)
        {
            // A string the reader cannot unescape (a lone UTF-16 surrogate, say) makes the chunk unreadable.
            _json = default;
            throw new JsonException(ex.Message, ex);
        }
        catch (JsonException)
        {
            _json = default;
            throw;
        }
    }

    /// <summary>Readers of streams that ended, kept for the next streams (see <see cref="IResettable.TryReset"/>).</summary>
    internal static readonly ObjectPool<StreamChunkReader> Pool = new DefaultObjectPoolProvider { MaximumRetained = 1024 }.Create<StreamChunkReader>();

    /// <summary>Forgets the last chunk and returns the pooled buffers, ready for another stream.</summary>
    bool IResettable.TryReset()
    {
        Dispose();
        Forget();
        return true;
    }

    /// <summary>Forgets what the last read found.</summary>
    private void Forget()
    {
        _json = default;
        _texts.Clear();
        _finishReasons.Clear();
        _unescapedUsed = 0;
        _id = default;
        _model = default;
        _idText = null;
        _modelText = null;
        _firstChoiceTexts = 0;
        _firstChoiceFinish = -1;
        Usage = null;
        ErrorMessage = null;
        ChoiceCount = -1;
        Created = 0;
    }

    /// <summary>Returns the pooled buffer; the instance stays usable and rents again when it must.</summary>
    public void Dispose()
    {
        var buffer = _unescaped;
        _unescaped = [];
        _unescapedUsed = 0;
        _texts.Dispose();
        _finishReasons.Dispose();
        _json = default;
        _idText = null;
        _modelText = null;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ReadChunk(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected a JSON object.");
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    ReadChoices(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) _id = RangeOf(ref reader);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) _model = RangeOf(ref reader);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var seconds)) Created = seconds;
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) Usage = OpenAiUsageJson.Read(ref reader);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null) ErrorMessage = OpenAiPayloadInspector.ReadErrorMessage(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // Reading to the end validates the rest of the document.
        while (reader.Read())
        {
        }
    }

    private void ReadChoices(ref Utf8JsonReader reader)
    {
        ChoiceCount = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            ChoiceCount++;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            var first = _texts.Count;
            var index = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number)) index = number;
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        _finishReasons.Add((int)reader.TokenStartIndex);
                        if (ChoiceCount == 1) _firstChoiceFinish = (int)reader.TokenStartIndex;
                    }
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) ReadDelta(ref reader);
                    else reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            // The choice's index may come after its delta.
            for (var i = first; i < _texts.Count; i++)
            {
                _texts[i] = _texts[i] with { Choice = index };
            }
            if (ChoiceCount == 1)
            {
                _firstChoiceTexts = _texts.Count;
            }
        }
    }

    private void ReadDelta(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ChunkTextKind? kind = reader.ValueTextEquals("content"u8) ? ChunkTextKind.Content
                : reader.ValueTextEquals("reasoning_content"u8) ? ChunkTextKind.ReasoningContent
                : reader.ValueTextEquals("reasoning"u8) ? ChunkTextKind.Reasoning
                : reader.ValueTextEquals("refusal"u8) ? ChunkTextKind.Refusal
                : reader.ValueTextEquals("reasoning_signature"u8) ? ChunkTextKind.ReasoningSignature
                : null;
            var toolCalls = kind is null && reader.ValueTextEquals("tool_calls"u8);
            reader.Read();
            if (kind is { } text && reader.TokenType == JsonTokenType.String)
            {
                AddText(ref reader, text, tool: -1);
            }
            else if (toolCalls && reader.TokenType == JsonTokenType.StartArray)
            {
                // A tool_calls array marks the choice as calling a tool even when its entries carry no text yet.
                _texts.Add(new ChunkText(ChunkTextKind.ToolCallStart, 0, -1, false, 0, 0, 0, 0));
                var ordinal = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType == JsonTokenType.StartObject) ReadToolCall(ref reader, ordinal);
                    else reader.Skip();
                    ordinal++;
                }
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void ReadToolCall(ref Utf8JsonReader reader, int ordinal)
    {
        // Every call object is marked, even one whose fields carry no text yet.
        _texts.Add(new ChunkText(ChunkTextKind.ToolCall, 0, ordinal, false, 0, 0, 0, 0));
        var first = _texts.Count - 1;
        var index = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number)) index = number;
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) AddText(ref reader, ChunkTextKind.ToolId, ordinal);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("function"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    ChunkTextKind? kind = reader.ValueTextEquals("arguments"u8) ? ChunkTextKind.ToolArguments
                        : reader.ValueTextEquals("name"u8) ? ChunkTextKind.ToolName
                        : null;
                    reader.Read();
                    if (kind is { } text && reader.TokenType == JsonTokenType.String) AddText(ref reader, text, ordinal);
                    else reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // A tool call's index may come after its function; without one it is told apart by its place in the array.
        for (var i = first; i < _texts.Count; i++)
        {
            _texts[i] = _texts[i] with { Tool = index >= 0 ? index : ordinal, ToolIndexGiven = index >= 0 };
        }
    }

    private void AddText(ref Utf8JsonReader reader, ChunkTextKind kind, int tool)
    {
        var rawStart = (int)reader.TokenStartIndex;
        var rawEnd = (int)reader.BytesConsumed;
        if (!reader.ValueIsEscaped)
        {
            // The chunk is one contiguous span, so the value is its own bytes between the quotes.
            _texts.Add(new ChunkText(kind, 0, tool, false, rawStart, rawEnd, rawStart + 1, reader.ValueSpan.Length));
            return;
        }
        // An unescaped string never has more bytes than its escaped form.
        EnsureUnescaped(reader.ValueSpan.Length);
        var length = reader.CopyString(_unescaped.AsSpan(_unescapedUsed));
        _texts.Add(new ChunkText(kind, 0, tool, false, rawStart, rawEnd, _unescapedUsed, length) { Escaped = true });
        _unescapedUsed += length;
    }

    private void EnsureUnescaped(int more)
    {
        if (_unescaped.Length - _unescapedUsed >= more)
        {
            return;
        }
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(256, Math.Max(_unescaped.Length * 2, _unescapedUsed + more)));
        _unescaped.AsSpan(0, _unescapedUsed).CopyTo(grown);
        if (_unescaped.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_unescaped);
        }
        _unescaped = grown;
    }

    private static TokenRange RangeOf(ref Utf8JsonReader reader) =>
        new((int)reader.TokenStartIndex, (int)reader.BytesConsumed);

    private string? DecodeModel()
    {
        if (_model.End == 0)
        {
            return null;
        }
        var token = _json.Span[_model.Start.._model.End];
        return token.IndexOf((byte)'\\') < 0 ? ModelNames.Shared.FromUtf8(token[1..^1]) : Decode(_model);
    }

    private string? Decode(TokenRange range)
    {
        if (range.End == 0)
        {
            return null;
        }
        var token = _json.Span[range.Start..range.End];
        if (token.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(token[1..^1]);
        }
        var reader = new Utf8JsonReader(token);
        reader.Read();
        return reader.GetString();
    }

    /// <summary>A JSON string token's place in the chunk, quotes included.</summary>
    private readonly record struct TokenRange(int Start, int End);
}

/// <summary>What a text value of a chunk is.</summary>
public enum ChunkTextKind
{
    /// <summary>A choice's <c>delta.content</c>.</summary>
    Content,

    /// <summary>A choice's <c>delta.reasoning_content</c>.</summary>
    ReasoningContent,

    /// <summary>A choice's <c>delta.reasoning</c>.</summary>
    Reasoning,

    /// <summary>A choice's <c>delta.refusal</c>.</summary>
    Refusal,

    /// <summary>A tool call's <c>function.arguments</c>.</summary>
    ToolArguments,

    /// <summary>A tool call's <c>function.name</c>.</summary>
    ToolName,

    /// <summary>A tool call's <c>id</c>.</summary>
    ToolId,

    /// <summary>No text: the choice's delta has a <c>tool_calls</c> array.</summary>
    ToolCallStart,

    /// <summary>A choice's <c>delta.reasoning_signature</c> (the signature that ends an Anthropic thinking block).</summary>
    ReasoningSignature,

    /// <summary>No text: one object of a <c>tool_calls</c> array, before the texts of its fields.</summary>
    ToolCall,
}

/// <summary>One text value of a chunk, found by <see cref="StreamChunkReader"/>.</summary>
/// <param name="Kind">Which field it is.</param>
/// <param name="Choice">The index of its choice.</param>
/// <param name="Tool">For a tool call's field, the call's index (its place in the array when it has none); otherwise -1.</param>
/// <param name="ToolIndexGiven">The tool call had an <c>index</c>.</param>
/// <param name="RawStart">Where the JSON string token starts in the chunk (its opening quote).</param>
/// <param name="RawEnd">Where the JSON string token ends in the chunk (after its closing quote).</param>
/// <param name="TextStart">Where the unescaped text starts (in the chunk, or in the reader's buffer when <see cref="Escaped"/>).</param>
/// <param name="TextLength">The unescaped text's length in UTF-8 bytes.</param>
public readonly record struct ChunkText(ChunkTextKind Kind, int Choice, int Tool, bool ToolIndexGiven, int RawStart, int RawEnd, int TextStart, int TextLength)
{
    /// <summary>The string had escapes: its text is in the reader's buffer, not in the chunk.</summary>
    public bool Escaped { get; init; }
}
