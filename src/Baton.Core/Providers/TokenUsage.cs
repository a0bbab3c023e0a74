namespace Baton.Providers;

/// <summary>
/// Token counts of one answer. <see cref="CachedPromptTokens"/> is the part of the prompt served from the
/// provider's prompt cache; <see cref="CacheWritePromptTokens"/> the part written to it (Anthropic bills
/// those above the input price); <see cref="ReasoningTokens"/> is the part of the completion spent on reasoning.
/// </summary>
public readonly record struct TokenUsage(
    int PromptTokens,
    int CompletionTokens,
    int TotalTokens,
    int CachedPromptTokens = 0,
    int ReasoningTokens = 0,
    int CacheWritePromptTokens = 0)
{
    public static TokenUsage Of(int prompt, int completion, int cached = 0, int reasoning = 0, int cacheWrite = 0) =>
        new(prompt, completion, prompt + completion, cached, reasoning, cacheWrite);

    public bool IsEmpty => TotalTokens == 0 && PromptTokens == 0 && CompletionTokens == 0;

    /// <summary>The usage of two answers together (the segments of a resumed stream).</summary>
    public TokenUsage Add(TokenUsage other) => new(PromptTokens + other.PromptTokens, CompletionTokens + other.CompletionTokens,
        TotalTokens + other.TotalTokens, CachedPromptTokens + other.CachedPromptTokens, ReasoningTokens + other.ReasoningTokens,
        CacheWritePromptTokens + other.CacheWritePromptTokens);
}
