using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Baton.Analysis;

/// <summary>
/// Reads a file once, in chunks, and computes everything the scan needs from its bytes: the digest that feeds the
/// fingerprints, whether it is binary, its line count and its TODO/FIXME/HACK markers. Memory stays one buffer per
/// file whatever its size.
/// </summary>
internal sealed class FileContentReader(long maxBytesRead)
{
    private const int BinaryProbeLength = 8 * 1024;
    private const int ChunkLength = 64 * 1024;
    private const long MaxTextKept = 1024 * 1024;

    /// <summary>Reads <paramref name="file"/>; null when it cannot be read (it is then left out of the scan).</summary>
    public ScannedFile? Read(ProjectFile file, bool keepText, CancellationToken cancellationToken)
    {
        // Named pipes, sockets and devices list as zero-length files, and opening a pipe blocks until a writer comes.
        // An empty regular file has nothing to read either, so a zero-length file is never opened.
        if (file.Length == 0)
        {
            return Empty(file.RelativePath, keepText);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(ChunkLength);
        try
        {
            using var stream = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
            var size = stream.Length;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Span<byte> sizeBytes = stackalloc byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(sizeBytes, size);
            hash.AppendData(sizeBytes);

            var overLimit = size > maxBytesRead;
            var text = keepText && !overLimit && size <= MaxTextKept ? new MemoryStream((int)size) : null;
            var markers = new MarkerScanner();
            long newlines = 0;
            long totalRead = 0;
            var isBinary = false;
            var lastByte = (byte)'\n';

            while (totalRead < maxBytesRead)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var wanted = (int)Math.Min(ChunkLength, maxBytesRead - totalRead);
                var read = stream.Read(buffer, 0, wanted);
                if (read == 0)
                {
                    break;
                }
                var chunk = buffer.AsSpan(0, read);
                if (totalRead < BinaryProbeLength)
                {
                    var probe = chunk[..(int)Math.Min(read, BinaryProbeLength - totalRead)];
                    isBinary |= probe.Contains((byte)0);
                }
                totalRead += read;
                hash.AppendData(chunk);
                if (!isBinary)
                {
                    newlines += chunk.Count((byte)'\n');
                    markers.Scan(chunk);
                    text?.Write(chunk);
                }
                lastByte = chunk[^1];
            }

            var countLines = !isBinary && !overLimit;
            var lines = countLines ? newlines + (totalRead > 0 && lastByte != '\n' ? 1 : 0) : 0;
            return new ScannedFile(
                file.RelativePath,
                size,
                hash.GetHashAndReset(),
                isBinary,
                overLimit,
                lines,
                countLines ? markers.Counts : default,
                countLines && text is not null ? Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length) : null);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ScannedFile Empty(string relativePath, bool keepText)
    {
        Span<byte> sizeBytes = stackalloc byte[sizeof(long)];
        return new ScannedFile(relativePath, 0, SHA256.HashData(sizeBytes), IsBinary: false, IsOverReadLimit: false, Lines: 0, default, Text: keepText ? "" : null);
    }

    /// <summary>
    /// Counts markers across chunk boundaries with one match position per marker. Restarting on a mismatch is exact
    /// here because no proper prefix of TODO, FIXME or HACK is also a suffix of it.
    /// </summary>
    private sealed class MarkerScanner
    {
        private static readonly byte[][] Markers = ["TODO"u8.ToArray(), "FIXME"u8.ToArray(), "HACK"u8.ToArray()];
        private readonly int[] _matched = new int[Markers.Length];
        private readonly int[] _counts = new int[Markers.Length];

        public MarkerCounts Counts => new(_counts[0], _counts[1], _counts[2]);

        public void Scan(ReadOnlySpan<byte> chunk)
        {
            foreach (var current in chunk)
            {
                for (var m = 0; m < Markers.Length; m++)
                {
                    var marker = Markers[m];
                    if (current == marker[_matched[m]])
                    {
                        _matched[m]++;
                    }
                    else
                    {
                        _matched[m] = current == marker[0] ? 1 : 0;
                    }
                    if (_matched[m] == marker.Length)
                    {
                        _counts[m]++;
                        _matched[m] = 0;
                    }
                }
            }
        }
    }
}
