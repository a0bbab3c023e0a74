namespace Baton.Accounting;

/// <summary>
/// A price in US dollars per million tokens: prompt tokens, prompt tokens served from the provider's prompt
/// cache, completion tokens (reasoning tokens are part of the completion and billed as output), and prompt
/// tokens written to the cache (Anthropic's write premium; the input price when null). Long-context models
/// charge more once the prompt passes a size: <see cref="Tiers"/> holds those prices, and a whole request is
/// billed at the tier its prompt falls into (not just the tokens past the threshold), as providers bill it.
/// </summary>
public sealed record ModelPrice(decimal Input, decimal CachedInput, decimal Output, decimal? CacheWrite = null)
{
    /// <summary>Free models (OpenRouter's <c>:free</c> variants, local models).</summary>
    public static readonly ModelPrice Free = new(0, 0, 0);

    /// <summary>Prices for prompts longer than a threshold, by ascending threshold; empty for a flat price.</summary>
    public IReadOnlyList<PriceTier> Tiers { get; init; } = [];

    /// <summary>A fee per thousand requests on top of the tokens (some search models charge one); 0 for most.</summary>
    public decimal PerThousandRequests { get; init; }

    /// <summary>A price whose cached input costs the same as input (providers without prompt-cache discounts).</summary>
    public static ModelPrice Of(decimal input, decimal output) => new(input, input, output);

    /// <summary>The flat price for a request whose prompt (cached and cache-written tokens included) has <paramref name="promptTokens"/> tokens.</summary>
    public ModelPrice ForPrompt(long promptTokens)
    {
        for (var i = Tiers.Count - 1; i >= 0; i--)
        {
            if (promptTokens > Tiers[i].AbovePromptTokens)
            {
                return Tiers[i].Price with { PerThousandRequests = PerThousandRequests };
            }
        }
        return Tiers.Count == 0 ? this : this with { Tiers = [] };
    }

    /// <summary>The highest price per token of each kind across the tiers: what a request of unknown size may cost at most.</summary>
    public ModelPrice Highest() => Tiers.Count == 0 ? this : Tiers.Aggregate(this with { Tiers = [] }, static (max, tier) => new ModelPrice(
        Math.Max(max.Input, tier.Price.Input), Math.Max(max.CachedInput, tier.Price.CachedInput), Math.Max(max.Output, tier.Price.Output),
        max.CacheWrite is null && tier.Price.CacheWrite is null ? null : Math.Max(max.CacheWrite ?? max.Input, tier.Price.CacheWrite ?? tier.Price.Input))
    {
        PerThousandRequests = max.PerThousandRequests,
    });

    public bool Equals(ModelPrice? other) =>
        other is not null && Input == other.Input && CachedInput == other.CachedInput && Output == other.Output &&
        CacheWrite == other.CacheWrite && PerThousandRequests == other.PerThousandRequests && Tiers.SequenceEqual(other.Tiers);

    public override int GetHashCode() => HashCode.Combine(Input, CachedInput, Output, CacheWrite, PerThousandRequests, Tiers.Count);
}

/// <summary>The price of every token of a request whose prompt has more than <paramref name="AbovePromptTokens"/> tokens.</summary>
public sealed record PriceTier(long AbovePromptTokens, ModelPrice Price);
