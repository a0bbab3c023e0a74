using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Baton.Configuration;

/// <summary>
/// Reads the <c>prices</c> section from the configuration's flattened keys. The binder cannot: a JSON key such
/// as <c>ollama/llama3:8b</c> arrives as the path <c>prices:ollama/llama3:8b:input</c>, which it would read as
/// a section <c>ollama/llama3</c> with a child <c>8b</c>. Every leaf is <c>prices:MODEL:FIELD</c> (FIELD one of
/// <c>input</c>, <c>cachedInput</c>, <c>output</c>, <c>cacheWrite</c>) or <c>prices:catalogPath</c>, so the last
/// segment is the field and everything between is the model id.
/// </summary>
internal static class PricesSectionReader
{
    public const string SectionName = "prices";

    private static readonly string[] Fields = ["input", "cachedInput", "output", "cacheWrite"];

    public static PricesOptions Read(IConfiguration configuration, List<string> errors)
    {
        var prices = new PricesOptions();
        var section = configuration.GetSection(SectionName);
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null)
            {
                // An object's own entry (or an empty object): its leaves carry the values.
                continue;
            }
            if (key.Equals(PricesOptions.CatalogPathKey, StringComparison.OrdinalIgnoreCase))
            {
                prices.CatalogPath = value.Length == 0 ? null : value;
                continue;
            }
            var split = key.LastIndexOf(ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
            var field = split < 0 ? null : Fields.FirstOrDefault(f => f.Equals(key[(split + 1)..], StringComparison.OrdinalIgnoreCase));
            if (field is null)
            {
                errors.Add(split < 0
                    ? $"prices.{key}: expected an object with input, cachedInput, output or cacheWrite (US dollars per million tokens), or '{PricesOptions.CatalogPathKey}'."
                    : $"prices.{key[..split]}.{key[(split + 1)..]}: unknown key; expected input, cachedInput, output or cacheWrite.");
                continue;
            }
            var model = key[..split];
            if (!decimal.TryParse(value, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var amount))
            {
                errors.Add($"prices.{model}.{field}: '{value}' is not a number.");
                continue;
            }
            if (!prices.TryGetValue(model, out var price))
            {
                prices[model] = price = new PriceOptions();
            }
            switch (field)
            {
                case "input": price.Input = amount; break;
                case "cachedInput": price.CachedInput = amount; break;
                case "output": price.Output = amount; break;
                default: price.CacheWrite = amount; break;
            }
        }
        return prices;
    }

    /// <summary>The configuration without its <c>prices</c> section, for the binder.</summary>
    public static IConfiguration Without(IConfiguration configuration)
    {
        var prefix = SectionName + ConfigurationPath.KeyDelimiter;
        var rest = configuration.AsEnumerable(makePathsRelative: configuration is IConfigurationSection)
            .Where(pair => !pair.Key.Equals(SectionName, StringComparison.OrdinalIgnoreCase) && !pair.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
        return new ConfigurationBuilder().AddInMemoryCollection(rest).Build();
    }
}
