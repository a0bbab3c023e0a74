namespace Baton.Core.Tests.TestSupport;

/// <summary>A body that hands out at most <paramref name="pieceSize"/> bytes a read: lines and events split across reads.</summary>
internal sealed class TrickleStream(byte[] bytes, int pieceSize) : MemoryStream(bytes, writable: false)
{
    public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, pieceSize));

    public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, pieceSize)]);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        base.ReadAsync(buffer[..Math.Min(buffer.Length, pieceSize)], cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        base.ReadAsync(buffer, offset, Math.Min(count, pieceSize), cancellationToken);
}
