using System.Collections;
using System.Runtime.InteropServices;

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
    private readonly List<ChunkText>? _texts;

    internal ChunkTexts(List<ChunkText> texts) => _texts = texts;

    /// <summary>The number of texts.</summary>
    public int Count => _texts?.Count ?? 0;

    /// <summary>The <paramref name="index"/>th text.</summary>
    public ChunkText this[int index] => (_texts ?? throw new ArgumentOutOfRangeException(nameof(index)))[index];

    /// <summary>The texts as a span, for a loop that allocates nothing.</summary>
    public ReadOnlySpan<ChunkText> AsSpan() => CollectionsMarshal.AsSpan(_texts);

    /// <summary>An enumerator over the texts that allocates nothing.</summary>
    public ReadOnlySpan<ChunkText>.Enumerator GetEnumerator() => AsSpan().GetEnumerator();

    IEnumerator<ChunkText> IEnumerable<ChunkText>.GetEnumerator() =>
        (_texts ?? []).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<ChunkText>)this).GetEnumerator();
}
