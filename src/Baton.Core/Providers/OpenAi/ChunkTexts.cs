using System.Collections;

namespace Baton.Providers.OpenAi;

/// <summary>
/// The texts a <see cref="StreamChunkReader"/> found in one chunk, in document order; valid until its next read.
/// </summary>
/// <remarks>
/// A struct with a span enumerator: the stream's consumers walk every chunk's texts, and a <c>foreach</c> over an
/// interface would box an enumerator per chunk and consumer. It is still an <see cref="IReadOnlyList{T}"/> for
/// callers that want LINQ.
/// </remarks>
public readonly struct ChunkTexts : IReadOnlyList<ChunkText>
{
    private readonly ChunkText[]? _texts;

    /// <param name="texts">The reader's (pooled) array, whose first <paramref name="count"/> items are the texts.</param>
    /// <param name="count">The number of texts.</param>
    internal ChunkTexts(ChunkText[] texts, int count) => (_texts, Count) = (texts, count);

    /// <summary>The number of texts.</summary>
    public int Count { get; }

    /// <summary>The <paramref name="index"/>th text.</summary>
    public ChunkText this[int index] => (uint)index < (uint)Count ? _texts![index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The texts as a span, for a loop that allocates nothing.</summary>
    public ReadOnlySpan<ChunkText> AsSpan() => _texts.AsSpan(0, Count);

    /// <summary>An enumerator over the texts that allocates nothing.</summary>
    public ReadOnlySpan<ChunkText>.Enumerator GetEnumerator() => AsSpan().GetEnumerator();

    IEnumerator<ChunkText> IEnumerable<ChunkText>.GetEnumerator() =>
        ((IEnumerable<ChunkText>)new ArraySegment<ChunkText>(_texts ?? [], 0, Count)).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<ChunkText>)this).GetEnumerator();
}
