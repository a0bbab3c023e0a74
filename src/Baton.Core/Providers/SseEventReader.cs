using System.Buffers;
using System.Net.ServerSentEvents;

namespace Baton.Providers;

/// <summary>
/// Reads server-sent events with the framework's <see cref="SseParser"/>, copying each event's data into
/// one reused pooled buffer instead of allocating per event. An event's data is valid until the next read.
/// </summary>
public sealed class SseEventReader : IDisposable
{
    private readonly Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private int _length;

    public SseEventReader(Stream stream) => _stream = stream;

    public readonly record struct SseEvent(string EventType, ReadOnlyMemory<byte> Data);

    public async IAsyncEnumerable<SseEvent> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parser = SseParser.Create(_stream, Capture);
        await foreach (var item in parser.EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new SseEvent(item.EventType, _buffer.AsMemory(0, _length));
        }
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

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
