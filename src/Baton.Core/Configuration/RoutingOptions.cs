namespace Baton.Configuration;

/// <summary>A tier of models for task routing (seed 002's <c>ModelTier</c>): models in order, and the tier to fall back to.</summary>
public sealed class TierOptions
{
    /// <summary>Configured model names, tried in order.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>The tier whose models are tried when all of this tier's have failed (seed 002's <c>fallback_tier</c>).</summary>
    public string? FallbackTier { get; set; }
}

/// <summary>
/// The <c>prices</c> section: prices by upstream model id or deployment id, and the catalog file. Model ids may
/// contain <c>:</c> (<c>ollama/llama3:8b</c>): the section is read from the configuration's keys by hand, since
/// the configuration binder would split such a key into nested sections.
/// </summary>
public sealed class PricesOptions : Dictionary<string, PriceOptions>
{
    /// <summary>The key of <see cref="CatalogPath"/> inside the section.</summary>
    public const string CatalogPathKey = "catalogPath";

    /// <summary>An empty price section whose model ids are matched case-insensitively.</summary>
    public PricesOptions()
        : base(StringComparer.OrdinalIgnoreCase)
    {
    }

    /// <summary>
    /// A genai-prices <c>data.json</c> to price with instead of the snapshot shipped in Baton, read at start-up
    /// and again whenever the configuration is reloaded; relative to the working directory.
    /// </summary>
    public string? CatalogPath { get; set; }
}

/// <summary>A deployment's price in US dollars per million tokens; reasoning tokens are billed as output.</summary>
public sealed class PriceOptions
{
    /// <summary>US dollars per million input (prompt) tokens not served from or written to a prompt cache.</summary>
    public decimal? Input { get; set; }

    /// <summary>Input tokens served from the provider's prompt cache; the input price when not set.</summary>
    public decimal? CachedInput { get; set; }

    /// <summary>US dollars per million output tokens, reasoning tokens included.</summary>
    public decimal? Output { get; set; }

    /// <summary>Input tokens written to the provider's prompt cache (Anthropic bills them at 1.25 times input); the input price when not set.</summary>
    public decimal? CacheWrite { get; set; }
}

/// <summary>Routing by task (<c>"model": "auto"</c>) beyond the tiers.</summary>
public sealed class TaskRoutingOptions
{
    /// <summary>
    /// The model a request for <c>auto</c> goes to when its task's tiers have no models (and the request names no
    /// fallbacks), or when it names no task at all. Unset: such a request is refused with a 400 saying what to add.
    /// </summary>
    public string? DefaultModel { get; set; }
}

/// <summary>How a model chooses among its deployments.</summary>
public static class RoutingStrategies
{
    /// <summary>In the configured order: the first deployment, then the next on failure. The default.</summary>
    public const string Ordered = "ordered";
    /// <summary>At random, in proportion to each deployment's <c>weight</c>.</summary>
    public const string Weighted = "weighted";
    /// <summary>Each request starts at the next deployment.</summary>
    public const string RoundRobin = "round-robin";
    /// <summary>The deployment with the fewest requests under way first.</summary>
    public const string LeastInFlight = "least-in-flight";
    /// <summary>The deployment with the lowest recent latency (moving average) first; unmeasured ones are tried early.</summary>
    public const string LowestLatency = "lowest-latency";
    /// <summary>The deployment with the lowest estimated cost for the request first; unpriced ones last.</summary>
    public const string Cheapest = "cheapest";

    /// <summary>Every strategy, for validation and error messages.</summary>
    public static readonly string[] All = [Ordered, Weighted, RoundRobin, LeastInFlight, LowestLatency, Cheapest];
}

/// <summary>
/// What a model serves. A chat model answers the chat fronts (Chat Completions, Messages, Responses, batches,
/// pipelines); an embeddings model answers <c>/v1/embeddings</c>. Neither is asked for the other's requests.
/// </summary>
public static class ModelKinds
{
    /// <summary>Chat completions: the default.</summary>
    public const string Chat = "chat";
    /// <summary>Embeddings (<c>/v1/embeddings</c> and the library's embedding generator).</summary>
    public const string Embeddings = "embeddings";

    /// <summary>Every kind, for validation and error messages.</summary>
    public static readonly string[] All = [Chat, Embeddings];

    /// <summary>The kind a configured value names, lower-cased; <c>chat</c> when none is given.</summary>
    public static string Of(string? kind) => string.IsNullOrEmpty(kind) ? Chat : kind.ToLowerInvariant();
}
