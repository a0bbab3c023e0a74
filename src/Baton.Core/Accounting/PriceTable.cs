using Baton.Accounting.Catalog;
using Baton.Configuration;
using Baton.Routing;

namespace Baton.Accounting;

/// <summary>
/// The one place prices come from, for cost tracking, budgets and the <c>cheapest</c> strategy alike. For a
/// deployment, each of its own configured price keys wins; the rest come from <c>prices</c> in configuration
/// (by deployment id, then upstream model id), else from the genai-prices catalog (the snapshot shipped in
/// Baton, or <c>prices.catalogPath</c>), matched by provider and model as genai-prices matches them, at the
/// prices in force at the time of the request. OpenRouter's <c>:free</c> models the catalog does not list
/// cost nothing. <see cref="Reload"/> swaps configured prices and catalog at once, for configuration reloads.
/// </summary>
public sealed class PriceTable
{
    private readonly TimeProvider _time;
    private volatile State _state;

    public PriceTable(IReadOnlyDictionary<string, PriceOptions>? configured = null, PriceCatalog? catalog = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _state = new State(configured, catalog);
    }

    /// <summary>Only the shipped catalog.</summary>
    public static PriceTable BuiltIn { get; } = new();

    /// <summary>The catalog in force.</summary>
    public PriceCatalog Catalog => _state.Catalog;

    /// <summary>Replaces the configured prices and the catalog (a reloaded configuration, a newer catalog file).</summary>
    public void Reload(IReadOnlyDictionary<string, PriceOptions>? configured, PriceCatalog? catalog) => _state = new State(configured, catalog);

    /// <summary>The deployment's price now; null when neither it, the configuration nor the catalog prices it.</summary>
    public ModelPrice? For(Deployment deployment) => Lookup(deployment, _time.GetUtcNow()).Price;

    /// <summary>The deployment's price at <paramref name="at"/>.</summary>
    public ModelPrice? For(Deployment deployment, DateTimeOffset at) => Lookup(deployment, at).Price;

    /// <summary>The price of an upstream model reached through a deployment with id <paramref name="deploymentId"/>.</summary>
    public ModelPrice? For(string deploymentId, string upstreamModel, PriceOptions? own = null, string? providerType = null, string? baseUrl = null) =>
        Lookup(deploymentId, upstreamModel, own, providerType, baseUrl, _time.GetUtcNow()).Price;

    /// <summary>The deployment's price at <paramref name="at"/>, and where it came from.</summary>
    public PriceLookup Lookup(Deployment deployment, DateTimeOffset at) =>
        Lookup(deployment.Id, deployment.UpstreamModel, deployment.Price, deployment.Provider.Type, deployment.BaseUrl, at);

    /// <summary>The price of an upstream model at <paramref name="at"/>, and where it came from.</summary>
    public PriceLookup Lookup(string deploymentId, string upstreamModel, PriceOptions? own, string? providerType, string? baseUrl, DateTimeOffset at)
    {
        var state = _state;
        var match = state.Catalog.Find(upstreamModel, providerType, baseUrl);
        var fromCatalog = match?.Model.Prices.At(at) ??
            (upstreamModel.EndsWith(":free", StringComparison.OrdinalIgnoreCase) ? ModelPrice.Free : null);
        PriceOptions? configured = null;
        string? configuredKey = null;
        if (state.Configured.TryGetValue(deploymentId, out var byDeployment))
        {
            (configured, configuredKey) = (byDeployment, deploymentId);
        }
        else if (state.Configured.TryGetValue(upstreamModel, out var byModel))
        {
            (configured, configuredKey) = (byModel, upstreamModel);
        }
        if (own is null && configured is null)
        {
            return new PriceLookup(fromCatalog, match, fromCatalog is null ? PriceSources.None : PriceSources.Catalog, null);
        }

        // Configured keys override the catalog key by key; a configured input price without a cached-input or
        // cache-write price means no discount and no premium, not the catalog's. A configured price is flat.
        var table = configured is null ? fromCatalog : Merge(configured, fromCatalog);
        var input = own?.Input ?? table?.Input;
        var output = own?.Output ?? table?.Output;
        if (input is null || output is null)
        {
            return new PriceLookup(null, match, PriceSources.None, configuredKey);
        }
        var cached = own?.CachedInput ?? (own?.Input is not null ? input : table?.CachedInput ?? input);
        var cacheWrite = own?.CacheWrite ?? (own?.Input is not null ? null : table?.CacheWrite);
        var price = new ModelPrice(input.Value, cached.Value, output.Value, cacheWrite) { PerThousandRequests = table?.PerThousandRequests ?? 0 };
        if (own is null && table is not null && fromCatalog is not null && configured is not null && IsEmpty(configured))
        {
            price = fromCatalog;
        }
        return new PriceLookup(price, match, own is not null ? PriceSources.Deployment : PriceSources.Configured, configuredKey);
    }

    private static bool IsEmpty(PriceOptions price) => price is { Input: null, CachedInput: null, Output: null, CacheWrite: null };

    private static ModelPrice? Merge(PriceOptions configured, ModelPrice? catalog)
    {
        var input = configured.Input ?? catalog?.Input;
        var output = configured.Output ?? catalog?.Output;
        if (input is null || output is null)
        {
            return null;
        }
        return new ModelPrice(input.Value,
            configured.CachedInput ?? (configured.Input is not null ? input.Value : catalog?.CachedInput ?? input.Value),
            output.Value,
            configured.CacheWrite ?? (configured.Input is not null ? null : catalog?.CacheWrite))
        {
            PerThousandRequests = catalog?.PerThousandRequests ?? 0,
        };
    }

    private sealed class State
    {
        public State(IReadOnlyDictionary<string, PriceOptions>? configured, PriceCatalog? catalog)
        {
            Catalog = catalog ?? PriceCatalog.Embedded;
            Configured = new Dictionary<string, PriceOptions>(StringComparer.OrdinalIgnoreCase);
            foreach (var (id, price) in configured ?? new Dictionary<string, PriceOptions>())
            {
                Configured[id] = price;
            }
        }

        public PriceCatalog Catalog { get; }

        public Dictionary<string, PriceOptions> Configured { get; }
    }
}

/// <summary>Where a price came from.</summary>
public static class PriceSources
{
    /// <summary>The deployment's own <c>price</c>.</summary>
    public const string Deployment = "deployment";

    /// <summary><c>prices</c> in configuration.</summary>
    public const string Configured = "configured";

    /// <summary>The genai-prices catalog.</summary>
    public const string Catalog = "catalog";

    /// <summary>Not priced.</summary>
    public const string None = "none";
}

/// <summary>
/// A price, the catalog entry matched (if any), where the price came from, and the configured key that set it. A value,
/// not an object: every answer is priced through it.
/// </summary>
public readonly record struct PriceLookup(ModelPrice? Price, CatalogMatch? Match, string Source, string? ConfiguredKey);
