using System.Buffers;

namespace Baton.Requests;

/// <summary>A byte buffer rented from <see cref="ArrayPool{T}.Shared"/>; return it with <see cref="Dispose"/>.</summary>
public sealed class PooledBuffer : IDisposable
{
    private byte[]? _array;

    /// <summary>An empty buffer with room for at least <paramref name="capacity"/> bytes (256 at the least); it grows as needed.</summary>
    public PooledBuffer(int capacity)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));
    }

    /// <summary>The bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>The bytes written, valid until the next append or disposal.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    /// <summary>The bytes written, valid until the next append or disposal.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);

    internal byte[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledBuffer));

    /// <summary>Appends <paramref name="bytes"/>, renting a larger array when needed.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        EnsureCapacity(Length + bytes.Length);
        bytes.CopyTo(Array.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Appends one byte.</summary>
    public void Append(byte value)
    {
        EnsureCapacity(Length + 1);
        Array[Length++] = value;
    }

    /// <summary>Appends a number (or any UTF-8 formattable value) without an intermediate string.</summary>
    public void AppendFormatted<T>(T value, string? format = null)
        where T : IUtf8SpanFormattable
    {
        var room = 32;
        while (true)
        {
            EnsureCapacity(Length + room);
            if (value.TryFormat(Array.AsSpan(Length), out var written, format, System.Globalization.CultureInfo.InvariantCulture))
            {
                Length += written;
                return;
            }
            room *= 2;
        }
    }

    /// <summary>
    /// Appends <paramref name="value"/> as a JSON string, exactly as <see cref="System.Text.Json.JsonSerializer"/>
    /// writes it. Plain ASCII names (the usual model id) are copied without allocating.
    /// </summary>
    public void AppendJsonString(string value)
    {
        foreach (var c in value)
        {
            // The characters the serializer's default encoder escapes, and everything outside printable ASCII.
            if (c is < ' ' or > '~' or '"' or '\\' or '<' or '>' or '&' or '\'' or '+' or '`')
            {
                Append(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value));
                return;
            }
        }
        EnsureCapacity(Length + value.Length + 2);
        var span = Array.AsSpan(Length);
        span[0] = (byte)'"';
        for (var i = 0; i < value.Length; i++)
        {
            span[i + 1] = (byte)value[i];
        }
        span[value.Length + 1] = (byte)'"';
        Length += value.Length + 2;
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

    /// <summary>Returns the array to the pool; the buffer cannot be used afterwards. Idempotent.</summary>
    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
