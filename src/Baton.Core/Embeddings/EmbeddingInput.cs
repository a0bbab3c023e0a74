namespace Baton.Embeddings;

/// <summary>
/// One input of an embeddings request: a text, or a text already tokenized (an array of token ids, which
/// OpenAI's API accepts for its embedding models).
/// </summary>
public sealed class EmbeddingInput
{
    private EmbeddingInput(string? text, int[]? tokens)
    {
        Text = text;
        Tokens = tokens;
    }

    /// <summary>The text; null when the input is a token array.</summary>
    public string? Text { get; }

    /// <summary>The token ids; null when the input is a text.</summary>
    public IReadOnlyList<int>? Tokens { get; }

    /// <summary>An input given as text.</summary>
    public static EmbeddingInput FromText(string text) => new(text ?? throw new ArgumentNullException(nameof(text)), null);

    /// <summary>An input given as token ids.</summary>
    public static EmbeddingInput FromTokens(IReadOnlyList<int> tokens) => new(null, [.. tokens ?? throw new ArgumentNullException(nameof(tokens))]);

    /// <summary>Characters the input stands for: a token is counted as four, the rough rule Baton's estimates use.</summary>
    internal int Characters => Text?.Length ?? Tokens!.Count * 4;
}
