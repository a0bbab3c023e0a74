namespace Baton.Accounting;

/// <summary>
/// Published list prices (US dollars per million tokens) for common models, matched by the upstream model id
/// without its provider prefix (<c>anthropic/claude-opus-4-5-20250514</c> matches <c>claude-opus-4-5</c>), the
/// longest matching prefix winning. Prices change: configure <c>prices</c> to override any of them.
/// </summary>
internal static class BuiltInPrices
{
    public static readonly IReadOnlyDictionary<string, ModelPrice> ByModelPrefix = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase)
    {
        // Seed 002's table (its BugHive router's five tiers).
        ["claude-opus-4-5"] = new(15m, 1.50m, 75m, 18.75m),
        ["claude-opus-4.5"] = new(15m, 1.50m, 75m, 18.75m),
        ["deepseek-chat"] = new(0.27m, 0.07m, 1.10m),
        ["deepseek-v3"] = new(0.27m, 0.07m, 1.10m),
        ["deepseek-coder"] = ModelPrice.Of(0.14m, 0.28m),
        ["qwen-2.5-72b"] = ModelPrice.Of(0.15m, 0.60m),
        ["qwen2.5-72b"] = ModelPrice.Of(0.15m, 0.60m),
        ["qwen-2.5-32b"] = ModelPrice.Of(0.06m, 0.24m),
        ["qwen2.5-32b"] = ModelPrice.Of(0.06m, 0.24m),
        ["qwen-2.5-coder-32b"] = ModelPrice.Of(0.06m, 0.24m),

        // Anthropic: cache reads at a tenth of input, cache writes (5-minute cache) at 1.25 times input.
        ["claude-opus-4"] = new(15m, 1.50m, 75m, 18.75m),
        ["claude-sonnet-4"] = new(3m, 0.30m, 15m, 3.75m),
        ["claude-3-7-sonnet"] = new(3m, 0.30m, 15m, 3.75m),
        ["claude-3-5-sonnet"] = new(3m, 0.30m, 15m, 3.75m),
        ["claude-haiku-4-5"] = new(1m, 0.10m, 5m, 1.25m),
        ["claude-3-5-haiku"] = new(0.80m, 0.08m, 4m, 1m),

        // OpenAI.
        ["gpt-4o"] = new(2.50m, 1.25m, 10m),
        ["gpt-4o-mini"] = new(0.15m, 0.075m, 0.60m),
        ["gpt-4.1"] = new(2m, 0.50m, 8m),
        ["gpt-4.1-mini"] = new(0.40m, 0.10m, 1.60m),
        ["gpt-4.1-nano"] = new(0.10m, 0.025m, 0.40m),
        ["gpt-5"] = new(1.25m, 0.125m, 10m),
        ["gpt-5-mini"] = new(0.25m, 0.025m, 2m),
        ["gpt-5-nano"] = new(0.05m, 0.005m, 0.40m),
        ["o1"] = new(15m, 7.50m, 60m),
        ["o1-mini"] = new(1.10m, 0.55m, 4.40m),
        ["o3"] = new(2m, 0.50m, 8m),
        ["o3-mini"] = new(1.10m, 0.55m, 4.40m),
        ["o4-mini"] = new(1.10m, 0.275m, 4.40m),

        // Google.
        ["gemini-2.5-pro"] = new(1.25m, 0.125m, 10m),
        ["gemini-2.5-flash"] = new(0.30m, 0.075m, 2.50m),
        ["gemini-2.0-flash"] = new(0.10m, 0.025m, 0.40m),

        // DeepSeek's reasoner (R1).
        ["deepseek-reasoner"] = new(0.55m, 0.14m, 2.19m),
        ["deepseek-r1"] = new(0.55m, 0.14m, 2.19m),
    };

    /// <summary>The price of the longest listed prefix of the bare model id; null when none is listed.</summary>
    public static ModelPrice? Find(string upstreamModel)
    {
        var bare = Bare(upstreamModel);
        ModelPrice? best = null;
        var bestLength = 0;
        foreach (var (prefix, price) in ByModelPrefix)
        {
            // "gpt-4o" must not match "gpt-4o-mini"'s price, and "o1" must not match "o1-preview-foo" wrongly: a
            // prefix matches only up to a separator, so the longest listed prefix decides.
            if (prefix.Length > bestLength && bare.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) &&
                (bare.Length == prefix.Length || bare[prefix.Length] is '-' or ':' or '@' or '.' or '_'))
            {
                best = price;
                bestLength = prefix.Length;
            }
        }
        return best;
    }

    /// <summary>The model id without its provider prefix and variant suffix (<c>:nitro</c>, <c>:beta</c>).</summary>
    internal static string Bare(string upstreamModel)
    {
        var slash = upstreamModel.LastIndexOf('/');
        var bare = slash >= 0 ? upstreamModel[(slash + 1)..] : upstreamModel;
        var colon = bare.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 ? bare[..colon] : bare;
    }
}
