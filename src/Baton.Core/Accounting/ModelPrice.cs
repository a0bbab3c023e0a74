namespace Baton.Accounting;

/// <summary>
/// A price in US dollars per million tokens: prompt tokens, prompt tokens served from the provider's prompt
/// cache, completion tokens (reasoning tokens are part of the completion and billed as output), and prompt
/// tokens written to the cache (Anthropic's write premium; the input price when null).
/// </summary>
public sealed record ModelPrice(decimal Input, decimal CachedInput, decimal Output, decimal? CacheWrite = null)
{
    /// <summary>Free models (OpenRouter's <c>:free</c> variants, local models).</summary>
    public static readonly ModelPrice Free = new(0, 0, 0);

    /// <summary>A price whose cached input costs the same as input (providers without prompt-cache discounts).</summary>
    public static ModelPrice Of(decimal input, decimal output) => new(input, input, output);
}
