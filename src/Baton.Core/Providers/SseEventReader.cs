using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.ObjectPool;

namespace Baton.Providers;

/// <summary>
/// Reads server-sent events (the WHATWG event stream format) from an upstream's body: lines ended by CR, LF or CRLF,
/// a UTF-8 byte order mark skipped, comments and fields other than <c>event</c> and <c>data</c> ignored, an event
/// dispatched at a blank line when it had data (its lines joined with LF), and an event the stream ends in the middle
/// of discarded. The body is read into one pooled buffer, and an event whose data is one line (every chunk of the
/// formats Baton reads) is handed on as a slice of it, without a copy: an event's data is valid until the next read.
/// </summary>
/// <remarks>
/// Baton's own reader rather than the framework's <c>SseParser</c>: that one copies each line to hand it to a delegate
/// (made per stream), wraps the events in an async iterator of its own, and allocates a string for every event's
/// type, where the formats Baton reads repeat a few. Measured, it was about 370 bytes and one iterator layer per stream.
/// Two ways to read: <see cref="MoveNextAsync"/> and <see cref="Current"/>, which complete at once while whole events
/// are buffered, or <see cref="ReadAsync"/> as an async sequence.
/// </remarks>
public sealed class SseEventReader : IDisposable, IAsyncDisposable, IResettable
{
    /// <summary>The longest event read; a longer one is not an upstream Baton can talk to.</summary>
    internal const int MaxEventBytes = 16 * 1024 * 1024;

    private const string DefaultEventType = "message";

    private Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private int _start;
    private int _end;
    private bool _eof;
    private bool _bomChecked;

    // Data of several lines, joined; rented the first time an event has more than one data line.
    private byte[] _joined = [];
    private string _lastType = DefaultEventType;

    public SseEventReader(Stream stream) => _stream = stream;

    /// <summary>A reader for the pool, given its stream by <see cref="Rent"/>.</summary>
    public SseEventReader() => _stream = Stream.Null;

    /// <summary>Readers of streams that ended, kept for the next streams: <see cref="Rent"/>, then <see cref="Return"/>.</summary>
    private static readonly ObjectPool<SseEventReader> Pool = new DefaultObjectPoolProvider { MaximumRetained = 1024 }.Create<SseEventReader>();

    /// <summary>A reader of <paramref name="stream"/> from the pool; given back with <see cref="Return"/> instead of disposed of.</summary>
    internal static SseEventReader Rent(Stream stream) => Pool.Get().Attach(stream);

    /// <summary>Gives a reader that is empty (new, or reset) its stream, and a buffer if it gave its own back.</summary>
    internal SseEventReader Attach(Stream stream)
    {
        _stream = stream;
        if (_buffer.Length == 0)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(4096);
        }
        return this;
    }

    /// <summary>Gives a reader from <see cref="Rent"/> back: its buffers are returned, and it forgets its stream.</summary>
    internal static void Return(SseEventReader reader) => Pool.Return(reader);

    bool IResettable.TryReset()
    {
        Dispose();
        _stream = Stream.Null;
        (_start, _end, _eof, _bomChecked) = (0, 0, false, false);
        _lastType = DefaultEventType;
        Current = default;
        return true;
    }

    public readonly record struct SseEvent(string EventType, ReadOnlyMemory<byte> Data);

    /// <summary>The event <see cref="MoveNextAsync"/> moved to; its data is valid until the next move.</summary>
    public SseEvent Current { get; private set; }

    public async IAsyncEnumerable<SseEvent> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return Current;
        }
    }

    /// <summary>
    /// Moves to the next event (<see cref="Current"/>); false at the end of the stream. Completes at once when the event
    /// is already buffered; otherwise reads the body until it is, with <paramref name="cancellationToken"/>.
    /// </summary>
    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        if (TryReadEvent())
        {
            return new ValueTask<bool>(true);
        }
        return FillAsync(cancellationToken);
    }

    /// <summary>Reads the body until a whole event is buffered (or the body ends).</summary>
    // Awaited once, at once, by the stream reading it: its state machine can come from a pool.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        while (!_eof)
        {
            MakeRoom();
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _eof = true;
            }
            _end += read;
            if (TryReadEvent())
            {
                return true;
            }
        }
        // The spec: an event the stream ends in the middle of is discarded.
        return false;
    }

    /// <summary>Moves what is left to read to the buffer's start, and grows the buffer when that fills it.</summary>
    private void MakeRoom()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxEventBytes)
            {
                throw new IOException($"The upstream sent a server-sent event longer than {MaxEventBytes / (1024 * 1024)} MB.");
            }
            var grown = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = grown;
        }
    }

    /// <summary>
    /// Parses the next whole event in the buffer into <see cref="Current"/> and moves past it; false, with nothing
    /// consumed, when the buffer holds no whole event yet. Blank lines without data and comments are consumed.
    /// </summary>
    private bool TryReadEvent()
    {
        if (!_bomChecked && !SkipByteOrderMark())
        {
            return false;
        }
        var position = _start;
        string? type = null;
        var dataStart = -1;
        var dataLength = 0;
        var joinedLength = -1;
        while (TryReadLine(ref position, out var lineStart, out var lineLength))
        {
            if (lineLength == 0)
            {
                _start = position;
                if (dataStart < 0)
                {
                    // A blank line without data dispatches nothing; the event type set so far is dropped with it.
                    type = null;
                    continue;
                }
                Current = new SseEvent(type ?? DefaultEventType,
                    joinedLength >= 0 ? _joined.AsMemory(0, joinedLength) : _buffer.AsMemory(dataStart, dataLength));
                return true;
            }
            var line = _buffer.AsSpan(lineStart, lineLength);
            if (line[0] == (byte)':')
            {
                continue;
            }
            var colon = line.IndexOf((byte)':');
            var field = colon < 0 ? line : line[..colon];
            var valueStart = colon < 0 ? lineLength : colon + 1;
            if (valueStart < lineLength && line[valueStart] == (byte)' ')
            {
                valueStart++;
            }
            if (field.SequenceEqual("data"u8))
            {
                if (dataStart < 0)
                {
                    (dataStart, dataLength) = (lineStart + valueStart, lineLength - valueStart);
                }
                else
                {
                    // A second data line: the event's data is joined from here on, with LF between lines.
                    if (joinedLength < 0)
                    {
                        joinedLength = Join(0, _buffer.AsSpan(dataStart, dataLength));
                    }
                    joinedLength = Join(Join(joinedLength, "\n"u8), line[valueStart..]);
                }
            }
            else if (field.SequenceEqual("event"u8))
            {
                type = TypeOf(line[valueStart..]);
            }
        }
        return false;
    }

    /// <summary>
    /// The next line from <paramref name="position"/>: false when no whole line is buffered (a CR at the end of what was
    /// read may be the first half of a CRLF, unless the body has ended).
    /// </summary>
    private bool TryReadLine(ref int position, out int lineStart, out int lineLength)
    {
        lineStart = position;
        var rest = _buffer.AsSpan(position, _end - position);
        var newline = rest.IndexOfAny((byte)'\r', (byte)'\n');
        if (newline < 0)
        {
            lineLength = 0;
            return false;
        }
        var terminator = 1;
        if (rest[newline] == (byte)'\r')
        {
            if (newline + 1 == rest.Length && !_eof)
            {
                lineLength = 0;
                return false;
            }
            if (newline + 1 < rest.Length && rest[newline + 1] == (byte)'\n')
            {
                terminator = 2;
            }
        }
        lineLength = newline;
        position += newline + terminator;
        return true;
    }

    /// <summary>Writes <paramref name="bytes"/> into the joined data at <paramref name="at"/>: the joined length after them.</summary>
    private int Join(int at, ReadOnlySpan<byte> bytes)
    {
        var length = at + bytes.Length;
        if (_joined.Length < length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(length * 2, 256));
            _joined.AsSpan(0, at).CopyTo(grown);
            if (_joined.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_joined);
            }
            _joined = grown;
        }
        bytes.CopyTo(_joined.AsSpan(at));
        return length;
    }

    /// <summary>
    /// An event's type: the previous event's string when it is the same, or one of the types upstreams send, kept once
    /// (an Anthropic stream changes type seven times); another type is decoded.
    /// </summary>
    private string TypeOf(ReadOnlySpan<byte> utf8)
    {
        if (Ascii.Equals(utf8, _lastType))
        {
            return _lastType;
        }
        foreach (var known in KnownTypes)
        {
            if (Ascii.Equals(utf8, known))
            {
                return _lastType = known;
            }
        }
        return _lastType = Encoding.UTF8.GetString(utf8);
    }

    private static readonly string[] KnownTypes =
    [
        "content_block_delta", "message_start", "content_block_start", "content_block_stop", "message_delta", "message_stop",
        "ping", "error", DefaultEventType,
    ];

    private static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    /// <summary>Skips a UTF-8 byte order mark at the start of the body: false until three bytes (or the end) are read.</summary>
    private bool SkipByteOrderMark()
    {
        var read = _buffer.AsSpan(_start, _end - _start);
        if (read.Length < ByteOrderMark.Length && !_eof && ByteOrderMark.StartsWith(read))
        {
            return false;
        }
        if (read.StartsWith(ByteOrderMark))
        {
            _start += ByteOrderMark.Length;
        }
        _bomChecked = true;
        return true;
    }

    /// <summary>Returns the buffers (the stream itself is its owner's to dispose of).</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var joined = Interlocked.Exchange(ref _joined, []);
        if (joined.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(joined);
        }
    }
}
