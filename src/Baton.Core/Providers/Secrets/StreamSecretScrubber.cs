using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Baton.Providers.OpenAi;
using Microsoft.Extensions.ObjectPool;

namespace Baton.Providers.Secrets;

/// <summary>
/// Removes keys from a stream of OpenAI <c>chat.completion.chunk</c> payloads, including a key the upstream
/// spelled over several chunks (a model echoing a key does so token by token). Each chunk first loses the
/// whole keys it holds (<see cref="SecretSet.ScrubJson"/>); then the text of each channel (a choice's
/// <c>content</c>, <c>reasoning_content</c>, <c>reasoning</c>, <c>refusal</c>, or a tool call's arguments) is
/// followed across chunks by one Knuth–Morris–Pratt matcher per key, whose state is how much of the key the
/// channel's text now ends with.
/// </summary>
/// <remarks>
/// A chunk is forwarded at once unless, after it, some channel ends with <see cref="Fragment"/> or more
/// characters of a key's beginning: then it and the chunks after it are held until the text either leaves
/// the key (they go out as they were) or completes it (they go out with the key's characters removed and the
/// mask in their place). Normal text therefore never waits, and an echo holds back at most a key's length. At
/// most <see cref="Fragment"/> − 1 characters of a key can have gone out before the hold began; a key's
/// beginning still held when the stream ends, or when the hold grows past its bound, is masked as an echo
/// cut short. Not thread-safe: one instance per stream at a time. Rented from its key set's pool
/// (<see cref="SecretSet.RentScrubber"/>) and given back when the stream ends, so that a stream pays for none of
/// its lists, buffers and matchers: every stream of a gateway with a provider key is scrubbed.
/// </remarks>
internal sealed class StreamSecretScrubber : IResettable
{
    private const int Fragment = SecretRedactor.MinimumFragmentLength;
    private const int MaxHeldChunks = 512;
    private const int MaxHeldBytes = 512 * 1024;

    // A scrubber whose text buffer grew past this for a huge chunk is not kept for the next stream.
    private const int MaxKeptChars = 64 * 1024;

    private readonly SecretSet _secrets;
    private readonly string[] _keys;
    private readonly int[][] _failure;
    private readonly List<Channel> _channels = [];
    private readonly List<Channel> _spareChannels = [];
    private readonly List<TextValue> _values = [];
    private readonly List<Segment> _segments = [];
    private readonly List<(Channel Channel, long Start, long End)> _matches = [];
    private readonly Queue<StreamChunk> _ready = new();
    private readonly List<HeldChunk> _held = [];
    private char[] _chars = new char[512];
    private StreamChunkReader? _reader;
    private int _heldBytes;

    public StreamSecretScrubber(SecretSet secrets)
    {
        _secrets = secrets;
        _keys = secrets.Keys;
        _failure = [.. _keys.Select(FailureTable)];
    }

    /// <summary>True while chunks are held back because a channel's text may be spelling a key.</summary>
    public bool Holding => _held.Count > 0;

    /// <summary>Takes the upstream's next chunk; what may be forwarded is then available from <see cref="TryTake"/>.</summary>
    /// <remarks>A chunk forwarded unchanged is the same memory, valid as long as the upstream's chunk is.</remarks>
    public void Accept(StreamChunk chunk)
    {
        var json = chunk.Json;
        var owned = false;
        if (_secrets.ScrubJson(json.Span, cutEchoes: false) is { } scrubbed)
        {
            json = scrubbed;
            owned = true;
        }
        ReadTextValues(json, chunk.Reading);
        _segments.Clear();
        _matches.Clear();
        foreach (var value in _values)
        {
            var channel = ChannelFor(value.Id);
            _segments.Add(new Segment(channel, channel.Position, value.CharLength, value.RawStart, value.RawEnd));
            Feed(channel, _chars.AsSpan(value.CharStart, value.CharLength));
        }
        var pending = LongestPending();
        if (_held.Count == 0 && _matches.Count == 0 && pending < Fragment)
        {
            // Unchanged bytes keep their reading; a chunk with keys removed is new bytes, read again downstream.
            _ready.Enqueue(new StreamChunk(json, chunk.IsUsageOnly, owned ? null : chunk.Reading));
            return;
        }

        _held.Add(new HeldChunk(owned ? json : json.ToArray(), chunk.IsUsageOnly, [.. _segments]));
        _heldBytes += json.Length;
        foreach (var (channel, start, end) in _matches)
        {
            Remove(channel, start, end);
        }
        if (pending >= Fragment)
        {
            if (_held.Count < MaxHeldChunks && _heldBytes < MaxHeldBytes)
            {
                return;
            }
            // A hold that does not resolve (an upstream spelling the same key's beginning over and over, or a
            // huge chunk) is not allowed to grow: what is pending is masked as if the stream ended here.
            RemovePending();
        }
        Flush();
    }

    /// <summary>Forgets the last stream, keeping the lists, the buffer and the channels' matchers for the next one.</summary>
    bool IResettable.TryReset()
    {
        _spareChannels.AddRange(_channels);
        _channels.Clear();
        _values.Clear();
        _segments.Clear();
        _matches.Clear();
        _ready.Clear();
        _held.Clear();
        _heldBytes = 0;
        Current = default;
        Reading = default;
        return _chars.Length <= MaxKeptChars;
    }

    /// <summary>The stream ended (or broke): whatever is held goes out, a key's beginning still pending masked.</summary>
    public void Complete()
    {
        if (_held.Count > 0)
        {
            RemovePending();
            Flush();
        }
    }

    /// <summary>
    /// Takes the next chunk that may be forwarded, which is also <see cref="Current"/> until the next take: the scrubbing
    /// stream's enumerator reads it from there, so that its own object, made for every stream, need not hold it.
    /// </summary>
    public bool TryTake(out StreamChunk chunk)
    {
        if (!_ready.TryDequeue(out chunk))
        {
            return false;
        }
        Current = chunk;
        return true;
    }

    /// <summary>The chunk <see cref="TryTake"/> took last.</summary>
    public StreamChunk Current { get; private set; }

    /// <summary>The keys this scrubber removes, whose pool it goes back to.</summary>
    public SecretSet Secrets => _secrets;

    /// <summary>
    /// Where the scrubbing stream this scrubber serves is in its upstream's chunks (see <see cref="SecretScrubbingStream"/>):
    /// kept in the pooled scrubber, as <see cref="Current"/> is, so that the stream's own object, made for every stream,
    /// holds only its upstream and its scrubber.
    /// </summary>
    internal UpstreamReading Reading;

    private Channel ChannelFor(ChannelId id)
    {
        foreach (var channel in _channels)
        {
            if (channel.Id == id)
            {
                return channel;
            }
        }
        Channel added;
        if (_spareChannels.Count > 0)
        {
            added = _spareChannels[^1];
            _spareChannels.RemoveAt(_spareChannels.Count - 1);
            added.Restart(id);
        }
        else
        {
            added = new Channel(id, _keys.Length);
        }
        _channels.Add(added);
        return added;
    }

    /// <summary>Advances the channel's matchers over its new text; a completed key is recorded in <see cref="_matches"/>.</summary>
    private void Feed(Channel channel, ReadOnlySpan<char> text)
    {
        var states = channel.States;
        foreach (var c in text)
        {
            channel.Position++;
            for (var k = 0; k < _keys.Length; k++)
            {
                var key = _keys[k];
                var state = states[k];
                while (state > 0 && key[state] != c)
                {
                    state = _failure[k][state - 1];
                }
                if (key[state] == c)
                {
                    state++;
                }
                if (state == key.Length)
                {
                    _matches.Add((channel, channel.Position - key.Length, channel.Position));
                    // The key's characters are about to be replaced: nothing after them continues them.
                    Array.Clear(states);
                    break;
                }
                states[k] = state;
            }
        }
    }

    private int LongestPending()
    {
        var longest = 0;
        foreach (var channel in _channels)
        {
            longest = Math.Max(longest, channel.Pending);
        }
        return longest;
    }

    private void RemovePending()
    {
        foreach (var channel in _channels)
        {
            if (channel.Pending >= Fragment)
            {
                Remove(channel, channel.Position - channel.Pending, channel.Position);
                Array.Clear(channel.States);
            }
        }
    }

    /// <summary>
    /// Removes the channel's characters [start, end) from the held chunks, the mask taking the place of the first
    /// held ones. Characters before the first held chunk have gone out already (fewer than <see cref="Fragment"/>).
    /// </summary>
    private void Remove(Channel channel, long start, long end)
    {
        var masked = false;
        foreach (var held in _held)
        {
            for (var i = 0; i < held.Segments.Length; i++)
            {
                var segment = held.Segments[i];
                var from = Math.Max(start, segment.ChannelStart);
                var to = Math.Min(end, segment.ChannelStart + segment.Length);
                if (segment.Channel != channel || from >= to)
                {
                    continue;
                }
                (held.Edits ??= []).Add(new Edit(i, (int)(from - segment.ChannelStart), (int)(to - segment.ChannelStart), Mask: !masked));
                masked = true;
            }
        }
    }

    private void Flush()
    {
        foreach (var held in _held)
        {
            _ready.Enqueue(new StreamChunk(held.Render(), held.IsUsageOnly));
        }
        _held.Clear();
        _heldBytes = 0;
    }

    /// <summary>
    /// Takes the chunk's text values in document order from its one reading, their text decoded into
    /// <see cref="_chars"/>. A chunk whose keys were just removed is read afresh.
    /// </summary>
    private void ReadTextValues(ReadOnlyMemory<byte> json, StreamChunkReader? reading)
    {
        _values.Clear();
        if (_chars.Length < json.Length)
        {
            // A decoded string never has more chars than its UTF-8 bytes.
            _chars = new char[Math.Max(json.Length, _chars.Length * 2)];
        }
        StreamChunkReader chunk;
        try
        {
            chunk = StreamChunkReader.Of(new StreamChunk(json, false, reading), ref _reader);
        }
        catch (JsonException)
        {
            // The provider checked every chunk already; one that cannot be read has no text to follow.
            return;
        }
        var used = 0;
        foreach (var value in chunk.Texts)
        {
            TextKind? kind = value.Kind switch
            {
                ChunkTextKind.Content => TextKind.Content,
                ChunkTextKind.ReasoningContent => TextKind.ReasoningContent,
                ChunkTextKind.Reasoning => TextKind.Reasoning,
                ChunkTextKind.Refusal => TextKind.Refusal,
                ChunkTextKind.ToolArguments => TextKind.ToolArguments,
                _ => null,
            };
            if (kind is not { } text)
            {
                continue;
            }
            var length = Encoding.UTF8.GetChars(chunk.TextOf(value), _chars.AsSpan(used));
            var id = new ChannelId(value.Choice, text, text == TextKind.ToolArguments ? value.Tool : 0);
            _values.Add(new TextValue(id, value.RawStart, value.RawEnd, used, length));
            used += length;
        }
    }

    private static int[] FailureTable(string key)
    {
        // failure[i]: the length of the longest proper prefix of key[..(i + 1)] that is also its suffix.
        var failure = new int[key.Length];
        var length = 0;
        for (var i = 1; i < key.Length; i++)
        {
            while (length > 0 && key[i] != key[length])
            {
                length = failure[length - 1];
            }
            if (key[i] == key[length])
            {
                length++;
            }
            failure[i] = length;
        }
        return failure;
    }

    private enum TextKind
    {
        Content,
        ReasoningContent,
        Reasoning,
        Refusal,
        ToolArguments,
    }

    /// <summary>Which text a value continues: a choice's field, or a tool call's arguments.</summary>
    private readonly record struct ChannelId(int Choice, TextKind Kind, int Tool);

    /// <summary>One text value of a chunk: where its JSON string is, and where its decoded text is in the buffer.</summary>
    private readonly record struct TextValue(ChannelId Id, int RawStart, int RawEnd, int CharStart, int CharLength);

    /// <summary>One text value of a held chunk, placed in its channel's text.</summary>
    private readonly record struct Segment(Channel Channel, long ChannelStart, int Length, int RawStart, int RawEnd);

    /// <summary>Characters [From, To) of a segment to remove, the mask in their place when <paramref name="Mask"/>.</summary>
    private readonly record struct Edit(int Segment, int From, int To, bool Mask);

    /// <summary>One channel's text so far: its length, and how much of each key it ends with.</summary>
    private sealed class Channel(ChannelId id, int keys)
    {
        public ChannelId Id { get; private set; } = id;

        public long Position { get; set; }

        public int[] States { get; } = new int[keys];

        /// <summary>The channel as new, for another stream's text.</summary>
        public void Restart(ChannelId id)
        {
            Id = id;
            Position = 0;
            Array.Clear(States);
        }

        /// <summary>The longest beginning of a key the text ends with.</summary>
        public int Pending => States.Length == 0 ? 0 : States.Max();
    }

    private sealed class HeldChunk(ReadOnlyMemory<byte> json, bool isUsageOnly, Segment[] segments)
    {
        private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

        public bool IsUsageOnly { get; } = isUsageOnly;

        public Segment[] Segments { get; } = segments;

        public List<Edit>? Edits { get; set; }

        /// <summary>The chunk with its edited strings written anew; the rest of its bytes as they were.</summary>
        public ReadOnlyMemory<byte> Render()
        {
            if (Edits is null)
            {
                return json;
            }
            var source = json.Span;
            var output = new ArrayBufferWriter<byte>(json.Length);
            var copied = 0;
            foreach (var group in Edits.GroupBy(e => e.Segment).OrderBy(g => g.Key))
            {
                var segment = Segments[group.Key];
                output.Write(source[copied..segment.RawStart]);
                var text = ReadString(source[segment.RawStart..segment.RawEnd]);
                var edited = new System.Text.StringBuilder(text.Length);
                var kept = 0;
                foreach (var edit in group.OrderBy(e => e.From))
                {
                    edited.Append(text, kept, edit.From - kept);
                    if (edit.Mask)
                    {
                        edited.Append(SecretRedactor.Mask);
                    }
                    kept = edit.To;
                }
                edited.Append(text, kept, text.Length - kept);
                output.Write("\""u8);
                output.Write(JsonEncodedText.Encode(edited.ToString(), Encoder).EncodedUtf8Bytes);
                output.Write("\""u8);
                copied = segment.RawEnd;
            }
            output.Write(source[copied..]);
            return output.WrittenMemory;
        }

        private static string ReadString(ReadOnlySpan<byte> token)
        {
            var reader = new Utf8JsonReader(token);
            reader.Read();
            return reader.GetString() ?? "";
        }
    }
}

/// <summary>A scrubbing stream's reading of its upstream: the upstream's enumerator, once begun, and how it ended.</summary>
internal struct UpstreamReading
{
    public IAsyncEnumerator<StreamChunk>? Chunks;
    public CancellationToken Cancellation;
    public bool Enumerated;
    public bool Ended;
    public ExceptionDispatchInfo? Failure;
}
