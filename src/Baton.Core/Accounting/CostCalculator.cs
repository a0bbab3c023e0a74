using Baton.Providers;

namespace Baton.Accounting;

/// <summary>
/// The cost of one answer from its usage, in exact decimals, computed as genai-prices computes it. The whole
/// request is priced at the tier its prompt (cached and cache-written tokens included) falls into. Prompt
/// tokens served from the provider's prompt cache are billed at the cached-input price, those written to it at
/// the cache-write price, and the rest at the input price; completion tokens, reasoning included (providers
/// count reasoning inside the completion), at the output price; a per-request fee, when the model has one, once.
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
        var flat = price.ForPrompt(prompt);
        return ((uncached * flat.Input) + (cached * flat.CachedInput) + (written * (flat.CacheWrite ?? flat.Input)) + (output * flat.Output)) / PerMillion
            + (flat.PerThousandRequests / 1000m);
    }

    /// <summary>The most a request can cost: its estimated prompt at the input price and its completion limit at the output price.</summary>
    public static decimal Estimate(int promptTokens, int completionTokens, ModelPrice price)
    {
        var flat = price.ForPrompt(promptTokens);
        // A prompt written to the provider's cache costs more than plain input; reserve for the dearer of the two.
        var input = Math.Max(flat.Input, flat.CacheWrite ?? flat.Input);
        return ((promptTokens * input) + (completionTokens * flat.Output)) / PerMillion + (flat.PerThousandRequests / 1000m);
    }
}
