using System.Buffers;
using System.Text;

namespace Baton.Providers.OpenAi;

/// <summary>
/// Text a stream accumulates (the delivered answer, a tool call's arguments), kept as UTF-8 in a pooled array that
/// grows by doubling: appending a chunk's text copies its bytes and allocates nothing, and the text is decoded to
/// a string only when it is needed whole. After <see cref="Dispose"/> it is empty and rents again if appended to.
/// </summary>
/// <remarks>
/// A mutable struct, held as a field of its owner (never as a readonly field, a property or a local copy, which would
/// append to a copy): a streamed answer keeps several, and as objects of their own they were several allocations per stream.
/// </remarks>
internal struct Utf8TextBuffer : IDisposable
{
    private byte[]? _bytes;

    /// <summary>The length of the text in UTF-8 bytes.</summary>
    public int Length { get; private set; }

    /// <summary>The text's bytes; valid until the next append.</summary>
    public readonly ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, Length);

    public void Append(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return;
        }
        var capacity = _bytes?.Length ?? 0;
        if (capacity - Length < utf8.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(256, Math.Max(capacity * 2, Length + utf8.Length)));
            _bytes.AsSpan(0, Length).CopyTo(grown);
            Release();
            _bytes = grown;
        }
        utf8.CopyTo(_bytes!.AsSpan(Length));
        Length += utf8.Length;
    }

    /// <summary>The text from UTF-8 byte <paramref name="start"/> on, decoded; empty past the end (or once disposed).</summary>
    public readonly string ToString(int start) => start >= Length ? "" : Encoding.UTF8.GetString(_bytes!, start, Length - start);

    public override readonly string ToString() => Length == 0 ? "" : Encoding.UTF8.GetString(_bytes!, 0, Length);

    public void Dispose()
    {
        Release();
        _bytes = null;
        Length = 0;
    }

    private readonly void Release()
    {
        if (_bytes is not null)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
        }
    }
}
