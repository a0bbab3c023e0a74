using System.Buffers;
using System.Net.ServerSentEvents;

namespace Baton.Providers;

/// <summary>
/// Reads server-sent events with the framework's <see cref="SseParser"/>, copying each event's data into
/// one reused pooled buffer instead of allocating per event. An event's data is valid until the next read.
/// </summary>
/// <remarks>
/// Two ways to read: <see cref="ReadAsync"/> as an async sequence, or <see cref="MoveNextAsync"/> and
/// <see cref="Current"/>, which hand on the parser's own enumerator without an iterator of their own (a stream's
/// every event passes through here, so a layer less is work saved per event). A reader read the second way is
/// disposed with <see cref="DisposeAsync"/>, which also ends the parser's enumeration.
/// </remarks>
public sealed class SseEventReader : IDisposable, IAsyncDisposable
{
    private readonly Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private int _length;
    private IAsyncEnumerator<SseItem<string>>? _events;

    public SseEventReader(Stream stream) => _stream = stream;

    public readonly record struct SseEvent(string EventType, ReadOnlyMemory<byte> Data);

    /// <summary>The event <see cref="MoveNextAsync"/> moved to; its data is valid until the next move.</summary>
    public SseEvent Current => new(_events?.Current.EventType ?? "", _buffer.AsMemory(0, _length));

    public async IAsyncEnumerable<SseEvent> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parser = SseParser.Create(_stream, Capture);
        await foreach (var item in parser.EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new SseEvent(item.EventType, _buffer.AsMemory(0, _length));
        }
    }

    /// <summary>
    /// Moves to the next event (<see cref="Current"/>); false at the end of the stream. The first call starts the
    /// parser with <paramref name="cancellationToken"/>, which then applies to every read.
    /// </summary>
    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        _events ??= SseParser.Create(_stream, Capture).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        return _events.MoveNextAsync();
    }

    private string Capture(string eventType, ReadOnlySpan<byte> data)
    {
        if (data.Length > _buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        }
        data.CopyTo(_buffer);
        _length = data.Length;
        return eventType;
    }

    /// <summary>Ends the parser's enumeration (returning its buffer) and this reader's buffer.</summary>
    public async ValueTask DisposeAsync()
    {
        var events = Interlocked.Exchange(ref _events, null);
        if (events is not null)
        {
            await events.DisposeAsync().ConfigureAwait(false);
        }
        Dispose();
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
