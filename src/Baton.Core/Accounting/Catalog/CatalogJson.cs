using System.Text.Json;
using System.Text.Json.Serialization;

namespace Baton.Accounting.Catalog;

/// <summary>A provider of genai-prices' <c>data.json</c>, as written (see <c>data.schema.json</c>).</summary>
internal sealed class CatalogProviderJson
{
    public string Id { get; set; } = "";

    public string? Name { get; set; }

    public string? ApiPattern { get; set; }

    public MatchJson? ModelMatch { get; set; }

    public MatchJson? ProviderMatch { get; set; }

    public List<string>? FallbackModelProviders { get; set; }

    public List<CatalogModelJson> Models { get; set; } = [];
}

/// <summary>A model entry: its match rule and its prices (one set, or conditional sets).</summary>
internal sealed class CatalogModelJson
{
    public string Id { get; set; } = "";

    public string? Name { get; set; }

    public MatchJson? Match { get; set; }

    public int? ContextWindow { get; set; }

    public bool? Deprecated { get; set; }

    /// <summary>An object of prices, or an array of <c>{constraint, prices}</c>; read by <see cref="CatalogPrices"/>.</summary>
    public JsonElement Prices { get; set; }
}

/// <summary>One clause of a match rule: exactly one of its members is set.</summary>
internal sealed class MatchJson
{
    [JsonPropertyName("equals")]
    public string? EqualTo { get; set; }

    public string? StartsWith { get; set; }

    public string? EndsWith { get; set; }

    public string? Contains { get; set; }

    public string? Regex { get; set; }

    public List<MatchJson>? Or { get; set; }

    public List<MatchJson>? And { get; set; }
}

/// <summary>Source-generated metadata for the catalog, so reading it at start-up needs no reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(List<CatalogProviderJson>))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
