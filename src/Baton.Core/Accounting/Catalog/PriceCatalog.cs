using System.Collections.Concurrent;
using System.Text.Json;
using Baton.Configuration;

namespace Baton.Accounting.Catalog;

/// <summary>
/// The price data of the genai-prices project (<c>data.json</c>: providers, the models each serves with their
/// match rules, and their prices), and its lookup: first the provider (by the deployment's base URL, else by
/// its provider type, else by the model name), then the model within it by its rules, then the prices in force
/// at the time of the request. Baton ships a snapshot (<see cref="Embedded"/>, read on first use);
/// <c>prices.catalogPath</c> loads a newer file.
/// </summary>
public sealed class PriceCatalog
{
    private const string ResourceName = "Baton.Accounting.Catalog.GenAiPrices.data.json";

    private static readonly Lazy<PriceCatalog> s_embedded = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly ConcurrentDictionary<(string? Type, string? BaseUrl, string Model), CatalogMatch?> _lookups = new();

    private PriceCatalog(IReadOnlyList<CatalogProvider> providers, string source)
    {
        Providers = providers;
        Source = source;
    }

    /// <summary>The snapshot shipped inside Baton.</summary>
    public static PriceCatalog Embedded => s_embedded.Value;

    /// <summary>The providers in the catalog's order (the order in which they are tried).</summary>
    public IReadOnlyList<CatalogProvider> Providers { get; }

    /// <summary>Where the data came from: <c>built-in</c>, or the file it was read from.</summary>
    public string Source { get; }

    /// <summary>Reads a genai-prices <c>data.json</c>.</summary>
    /// <exception cref="FormatException">The file is not genai-prices data.</exception>
    public static PriceCatalog Load(Stream utf8Json, string source)
    {
        List<CatalogProviderJson>? providers;
        try
        {
            providers = JsonSerializer.Deserialize(utf8Json, CatalogJsonContext.Default.ListCatalogProviderJson);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not genai-prices data: {ex.Message}", ex);
        }
        if (providers is null || providers.Count == 0)
        {
            throw new FormatException("not genai-prices data: expected a non-empty array of providers.");
        }
        return new PriceCatalog(providers.Select(p => CatalogProvider.From(p)).ToArray(), source);
    }

    /// <summary>Reads a genai-prices <c>data.json</c> file.</summary>
    /// <exception cref="FormatException">The file is not genai-prices data.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static PriceCatalog LoadFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream, Path.GetFullPath(path));
    }

    private static PriceCatalog LoadEmbedded()
    {
        using var stream = typeof(PriceCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The price catalog resource '{ResourceName}' is missing from the assembly.");
        return Load(stream, "built-in");
    }

    /// <summary>The provider with this id (or whose <c>provider_match</c> accepts it), as genai-prices finds a provider by id.</summary>
    public CatalogProvider? ProviderById(string id)
    {
        var normalized = id.Trim().ToLowerInvariant();
        return Providers.FirstOrDefault(p => p.Id == normalized) ?? Providers.FirstOrDefault(p => p.ProviderMatch?.IsMatch(normalized) == true);
    }

    /// <summary>
    /// The catalog's entry for <paramref name="model"/> served by a Baton provider of type
    /// <paramref name="providerType"/> at <paramref name="baseUrl"/>; null when the catalog does not list it.
    /// </summary>
    public CatalogMatch? Find(string model, string? providerType = null, string? baseUrl = null) =>
        _lookups.GetOrAdd((providerType?.ToLowerInvariant(), baseUrl, model), static (key, catalog) => catalog.Lookup(key.Model, key.Type, key.BaseUrl), this);

    private CatalogMatch? Lookup(string model, string? providerType, string? baseUrl)
    {
        var reference = model.Trim().ToLowerInvariant();
        // 1. The provider the request goes to: its base URL says it (OpenRouter, DeepSeek, Mistral, ... all speak
        // the OpenAI format), else the provider type does.
        var provider = baseUrl is null ? null : Providers.FirstOrDefault(p => p.ApiPattern?.IsMatch(baseUrl) == true);
        provider ??= providerType is null ? null : TypeProvider(providerType);
        if (provider is not null && FindIn(provider, reference) is { } direct)
        {
            return direct;
        }
        // 2. A model named "vendor/model" (OpenRouter's and LiteLLM's convention) is the vendor's model.
        var slash = reference.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && ProviderById(reference[..slash]) is { } vendor && FindIn(vendor, reference[(slash + 1)..]) is { } vendored)
        {
            return vendored;
        }
        // 3. A provider not in the catalog (a local server, the simulator) serving a known model: the provider
        // whose model_match accepts the name, as genai-prices finds one from the model name alone.
        foreach (var candidate in (string[])[reference, slash > 0 ? reference[(slash + 1)..] : reference])
        {
            if (Providers.FirstOrDefault(p => p.ModelMatch?.IsMatch(candidate) == true) is { } byName && FindIn(byName, candidate) is { } found)
            {
                return found;
            }
        }
        // 4. A "vendor/model" id no vendor lists is most likely OpenRouter's name for it, as in seed 002's configuration.
        return slash > 0 && ProviderById("openrouter") is { } openRouter ? FindIn(openRouter, reference) : null;
    }

    private CatalogMatch? FindIn(CatalogProvider provider, string reference)
    {
        if (provider.Models.FirstOrDefault(m => m.Match.IsMatch(reference)) is { } model)
        {
            return new CatalogMatch(provider, model);
        }
        // Providers that resell others' models (Azure's OpenAI models, Google's and AWS's Claude) fall back to
        // those providers' prices, one step only, as genai-prices does.
        foreach (var id in provider.FallbackModelProviders)
        {
            if (Providers.FirstOrDefault(p => p.Id == id) is { } other && other.Models.FirstOrDefault(m => m.Match.IsMatch(reference)) is { } resold)
            {
                return new CatalogMatch(provider, resold);
            }
        }
        return null;
    }

    private CatalogProvider? TypeProvider(string providerType) => providerType switch
    {
        ProviderTypes.OpenAi => ProviderById("openai"),
        ProviderTypes.Anthropic => ProviderById("anthropic"),
        ProviderTypes.Gemini => ProviderById("google"),
        ProviderTypes.Azure => ProviderById("azure"),
        _ => null,
    };
}

/// <summary>A provider of the catalog.</summary>
public sealed class CatalogProvider
{
    private CatalogProvider(string id, string name, IReadOnlyList<CatalogModel> models)
    {
        Id = id;
        Name = name;
        Models = models;
    }

    public string Id { get; }

    public string Name { get; }

    internal CatalogPattern? ApiPattern { get; private init; }

    internal MatchRule? ModelMatch { get; private init; }

    internal MatchRule? ProviderMatch { get; private init; }

    internal IReadOnlyList<string> FallbackModelProviders { get; private init; } = [];

    public IReadOnlyList<CatalogModel> Models { get; }

    internal static CatalogProvider From(CatalogProviderJson json)
    {
        var where = $"providers.{json.Id}";
        return new CatalogProvider(json.Id, json.Name ?? json.Id, json.Models.Select(m => CatalogModel.From(m, where)).ToArray())
        {
            // Python's re.match: the pattern is anchored at the start of the URL only.
            ApiPattern = json.ApiPattern is { } pattern ? CatalogPattern.AtStart(pattern) : null,
            ModelMatch = json.ModelMatch is { } modelMatch ? MatchRule.From(modelMatch, where + ".model_match") : null,
            ProviderMatch = json.ProviderMatch is { } providerMatch ? MatchRule.From(providerMatch, where + ".provider_match") : null,
            FallbackModelProviders = json.FallbackModelProviders ?? [],
        };
    }
}

/// <summary>A model of the catalog: the rule that recognises its names, and its prices.</summary>
public sealed class CatalogModel
{
    private CatalogModel(string id, string name, MatchRule match, CatalogPrices prices)
    {
        Id = id;
        Name = name;
        Match = match;
        Prices = prices;
    }

    public string Id { get; }

    public string Name { get; }

    public int? ContextWindow { get; private init; }

    public bool Deprecated { get; private init; }

    public CatalogPrices Prices { get; }

    internal MatchRule Match { get; }

    internal static CatalogModel From(CatalogModelJson json, string provider)
    {
        var where = $"{provider}.models.{json.Id}";
        return new CatalogModel(json.Id, json.Name ?? json.Id,
            MatchRule.From(json.Match ?? throw new FormatException($"{where}: no match rule."), where + ".match"),
            CatalogPrices.Read(json.Prices, where + ".prices"))
        {
            ContextWindow = json.ContextWindow,
            Deprecated = json.Deprecated ?? false,
        };
    }
}

/// <summary>A model found in the catalog, and the provider it was found under.</summary>
public sealed record CatalogMatch(CatalogProvider Provider, CatalogModel Model);
