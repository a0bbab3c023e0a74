using Microsoft.ML.Tokenizers;

namespace Baton.Accounting;

/// <summary>
/// Counts a text's tokens in time linear in its length, whatever the text. Byte-pair encoding is quadratic in
/// the length of the piece it merges, and tiktoken's pre-tokenizer leaves some runs in one piece however long
/// they are (letters without a space, punctuation, whitespace): 40,000 <c>x</c> cost a second, 300,000 about a
/// minute. So the text is pre-tokenized here, each pre-token is encoded on its own (exactly what the tokenizer
/// does inside, so the sum is the tokenizer's own count), and a pre-token longer than
/// <see cref="MaxPieceChars"/> is encoded in slices of that length: ordinary text never has such a pre-token and
/// is counted exactly; a pathological run is counted in bounded pieces, a count close to the exact one (a slice
/// boundary may split what would have been one token). Past <see cref="ExactCharsLimit"/> characters, the rest
/// of the text is estimated at the rate of the part counted. The count can be cancelled between pieces.
/// </summary>
internal static class BoundedTokenCount
{
    /// <summary>The longest piece encoded at once: its cost is bounded, and no word of ordinary text is longer.</summary>
    public const int MaxPieceChars = 128;

    /// <summary>The most characters of one text counted token by token (about 250,000 tokens, more than any model answers).</summary>
    public const int ExactCharsLimit = 1 << 20;

    /// <summary>How often (in characters counted) cancellation is checked.</summary>
    private const int CancellationCheckChars = 8 * 1024;

    /// <summary>Tokens in <paramref name="text"/> with <paramref name="tokenizer"/> (a tiktoken encoding, which has no normalizer).</summary>
    public static int Count(Tokenizer tokenizer, string text, CancellationToken cancellationToken) => Count(tokenizer, text.AsSpan(), cancellationToken);

    /// <summary>
    /// Tokens in <paramref name="text"/> with <paramref name="tokenizer"/>: the same count as for the text as a string, for
    /// text decoded into a reused buffer (a prompt's strings are counted without a string each).
    /// </summary>
    public static int Count(Tokenizer tokenizer, ReadOnlySpan<char> text, CancellationToken cancellationToken)
    {
        if (text.Length <= MaxPieceChars)
        {
            // No pre-token can be longer than the text: the tokenizer's own count is already bounded.
            return tokenizer.CountTokens(text);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var exactLength = Math.Min(text.Length, ExactCharsLimit);
        if (exactLength < text.Length && char.IsHighSurrogate(text[exactLength - 1]))
        {
            exactLength--;
        }
        var exact = text[..exactLength];
        long count = 0;
        var sinceCheck = 0;
        var splits = tokenizer.PreTokenizer?.PreTokenize(exact) ?? [(0, exact.Length)];
        foreach (var (offset, length) in splits)
        {
            count += CountPreToken(tokenizer, exact.Slice(offset, length));
            sinceCheck += length;
            if (sinceCheck >= CancellationCheckChars)
            {
                cancellationToken.ThrowIfCancellationRequested();
                sinceCheck = 0;
            }
        }
        if (exactLength < text.Length)
        {
            count += (long)Math.Ceiling(count * (double)(text.Length - exactLength) / exactLength);
        }
        return (int)Math.Min(count, int.MaxValue);
    }

    /// <summary>One pre-token, in slices of at most <see cref="MaxPieceChars"/> (never between a surrogate pair).</summary>
    private static int CountPreToken(Tokenizer tokenizer, ReadOnlySpan<char> preToken)
    {
        var count = 0;
        while (preToken.Length > MaxPieceChars)
        {
            var cut = char.IsHighSurrogate(preToken[MaxPieceChars - 1]) ? MaxPieceChars - 1 : MaxPieceChars;
            count += tokenizer.CountTokens(preToken[..cut], considerPreTokenization: false, considerNormalization: false);
            preToken = preToken[cut..];
        }
        return count + tokenizer.CountTokens(preToken, considerPreTokenization: false, considerNormalization: false);
    }
}
