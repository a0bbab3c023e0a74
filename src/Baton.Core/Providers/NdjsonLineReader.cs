using System.Buffers;

namespace Baton.Providers;

/// <summary>
/// Reads newline-delimited JSON (one document per line, as Ollama streams) into one reused pooled buffer
/// instead of allocating per line. A line may arrive split across reads; <c>\r\n</c> endings are accepted,
/// blank lines are skipped, and a last line without its newline is still returned. A yielded line is
/// valid until the next one is read.
/// </summary>
public sealed class NdjsonLineReader : IDisposable
{
    /// <summary>Large enough for a tool call with big arguments; small enough that a runaway upstream cannot exhaust memory.</summary>
    public const int DefaultMaxLineBytes = 4 * 1024 * 1024;

    private const int InitialBufferBytes = 4096;

    private readonly Stream _stream;
    private readonly int _maxLineBytes;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);

    public NdjsonLineReader(Stream stream, int maxLineBytes = DefaultMaxLineBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 1);
        _stream = stream;
        _maxLineBytes = maxLineBytes;
    }

    /// <exception cref="InvalidDataException">A line is longer than the maximum.</exception>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadLinesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Unconsumed bytes are _buffer[start..end]; bytes before scanned hold no newline.
        int start = 0, end = 0, scanned = 0;
        while (true)
        {
            var newline = _buffer.AsSpan(scanned, end - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var lineEnd = scanned + newline;
                var line = TrimLine(_buffer.AsMemory(start, lineEnd - start));
                start = scanned = lineEnd + 1;
                if (!line.IsEmpty)
                {
                    yield return line;
                }
                continue;
            }

            scanned = end;
            if (end - start >= _maxLineBytes)
            {
                throw new InvalidDataException($"A line is longer than {_maxLineBytes} bytes.");
            }
            (start, end, scanned) = MakeRoom(start, end, scanned);
            var read = await _stream.ReadAsync(_buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                var last = TrimLine(_buffer.AsMemory(start, end - start));
                if (!last.IsEmpty)
                {
                    yield return last;
                }
                yield break;
            }
            end += read;
        }
    }

    /// <summary>Moves the partial line to the front of the buffer, growing it when the line fills it.</summary>
    private (int Start, int End, int Scanned) MakeRoom(int start, int end, int scanned)
    {
        var pending = end - start;
        if (start > 0)
        {
            _buffer.AsSpan(start, pending).CopyTo(_buffer);
        }
        else if (end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, _maxLineBytes + 1));
            _buffer.AsSpan(0, pending).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        return (0, pending, scanned - start);
    }

    private static ReadOnlyMemory<byte> TrimLine(ReadOnlyMemory<byte> line)
    {
        var span = line.Span;
        var length = span.Length;
        while (length > 0 && span[length - 1] is (byte)'\r' or (byte)' ' or (byte)'\t')
        {
            length--;
        }
        var first = 0;
        while (first < length && span[first] is (byte)' ' or (byte)'\t')
        {
            first++;
        }
        return line[first..length];
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
