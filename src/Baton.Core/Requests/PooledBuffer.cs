using System.Buffers;

namespace Baton.Requests;

/// <summary>A byte buffer rented from <see cref="ArrayPool{T}.Shared"/>; return it with <see cref="Dispose"/>.</summary>
public sealed class PooledBuffer : IDisposable
{
    private byte[]? _array;

    public PooledBuffer(int capacity)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));
    }

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);

    internal byte[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledBuffer));

    public void Append(ReadOnlySpan<byte> bytes)
    {
        EnsureCapacity(Length + bytes.Length);
        bytes.CopyTo(Array.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Reads the whole stream into the buffer, refusing more than <paramref name="maxBytes"/>.</summary>
    public async Task<bool> ReadFromAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            EnsureCapacity(Length + 4096);
            var read = await stream.ReadAsync(Array.AsMemory(Length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return true;
            }
            Length += read;
            if (Length > maxBytes)
            {
                return false;
            }
        }
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= Array.Length)
        {
            return;
        }
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Array.Length * 2));
        Array.AsSpan(0, Length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(Array);
        _array = larger;
    }

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
