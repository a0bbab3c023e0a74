using Baton.Providers;

namespace Baton.Accounting;

/// <summary>
/// The cost of one answer from its usage, in exact decimals. Prompt tokens served from the provider's prompt
/// cache are billed at the cached-input price, those written to it at the cache-write price, and the rest at
/// the input price; completion tokens, reasoning included (providers count reasoning inside the completion),
/// at the output price.
/// </summary>
public static class CostCalculator
{
    private const decimal PerMillion = 1_000_000m;

    public static decimal Cost(TokenUsage usage, ModelPrice price)
    {
        var prompt = Math.Max(0, usage.PromptTokens);
        var cached = Math.Clamp(usage.CachedPromptTokens, 0, prompt);
        var written = Math.Clamp(usage.CacheWritePromptTokens, 0, prompt - cached);
        var uncached = prompt - cached - written;
        // Some providers report reasoning apart from the completion; never bill fewer output tokens than the reasoning alone.
        var output = Math.Max(Math.Max(0, usage.CompletionTokens), usage.ReasoningTokens);
        return ((uncached * price.Input) + (cached * price.CachedInput) + (written * (price.CacheWrite ?? price.Input)) + (output * price.Output)) / PerMillion;
    }

    /// <summary>The most a request can cost: its estimated prompt at the input price and its completion limit at the output price.</summary>
    public static decimal Estimate(int promptTokens, int completionTokens, ModelPrice price) =>
        ((promptTokens * price.Input) + (completionTokens * price.Output)) / PerMillion;
}
