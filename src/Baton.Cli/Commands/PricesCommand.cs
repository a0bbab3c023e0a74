using System.CommandLine;
using System.Globalization;
using Baton.Accounting;
using Baton.Accounting.Catalog;
using Baton.Configuration;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton prices show MODEL</c>: the price Baton bills a model at, and where it comes from. MODEL is a model
/// of the configuration (each of its deployments is shown) or an upstream model id (<c>--base-url</c> names the
/// provider serving it, as a deployment's base URL would).
/// </summary>
internal static class PricesCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var model = new Argument<string>("MODEL") { Description = "A configured model, or an upstream model id such as gpt-4o or anthropic/claude-opus-4-5." };
        var baseUrl = new Option<string?>("--base-url") { Description = "For an upstream model id: the provider's API URL (e.g. https://openrouter.ai/api/v1)." };
        var show = new Command("show", "Show the matched catalog provider and model and the prices in force.") { config, model, baseUrl };
        show.SetAction(parse =>
        {
            BatonOptions options;
            try
            {
                // Prices need no keys: providers are not checked, so prices can be looked up anywhere.
                DotEnvFile.Load(console.WorkingDirectory);
                options = BatonConfigurationLoader.Load(parse.GetValue(config), console.WorkingDirectory).Options;
            }
            catch (BatonConfigurationException ex)
            {
                console.Error.WriteLine("baton: the configuration is not valid:");
                foreach (var error in ex.Errors)
                {
                    console.Error.WriteLine("  - " + error);
                }
                return CommonOptions.ConfigurationError;
            }
            PriceCatalog? catalog = null;
            if (options.Prices.CatalogPath is { } path && PriceCatalogFile.TryLoad(Path.GetFullPath(path, console.WorkingDirectory), out catalog) is { } problem)
            {
                console.Error.WriteLine($"baton: prices.{PricesOptions.CatalogPathKey}: {problem}");
                return CommonOptions.ConfigurationError;
            }
            var table = new PriceTable(options.Prices, catalog);
            var now = TimeProvider.System.GetUtcNow();
            var name = parse.GetValue(model)!;
            var output = console.Out.Profile.Out.Writer;
            output.WriteLine($"Price catalog: {table.Catalog.Source}");
            if (options.Models.TryGetValue(name, out var configured))
            {
                output.WriteLine($"Model {name}:");
                foreach (var deployment in configured.Deployments)
                {
                    var provider = options.Providers.TryGetValue(deployment.Provider ?? "", out var p) ? p : new ProviderOptions();
                    var type = provider.Type ?? "";
                    var id = $"{deployment.Provider}/{deployment.Model}";
                    Write(output, id, table.Lookup(id, deployment.Model ?? "", deployment.Price, type, provider.BaseUrl ?? ProviderTypes.DefaultBaseUrl(type), now));
                }
                return 0;
            }
            var lookup = table.Lookup(name, name, null, null, parse.GetValue(baseUrl), now);
            Write(output, name, lookup);
            return lookup.Price is null ? 1 : 0;
        });
        return new Command("prices", "Look up the prices Baton bills models at.") { show };
    }

    private static void Write(TextWriter output, string deployment, PriceLookup lookup)
    {
        output.WriteLine($"  {deployment}");
        output.WriteLine(lookup.Match is { } match
            ? $"    Catalog match: {match.Provider.Name} ({match.Provider.Id}) / {match.Model.Name} ({match.Model.Id})"
            : "    Catalog match: none");
        output.WriteLine($"    Price source: {Source(lookup)}");
        if (lookup.Price is not { } price)
        {
            output.WriteLine("    Not priced: its cost is recorded as $0 (budgets refuse it unless budgets.unpriced is 'estimate'). Set a price under 'prices'.");
            return;
        }
        Rates(output, "    ", price);
        foreach (var tier in price.Tiers)
        {
            output.WriteLine($"    Prompts over {tier.AbovePromptTokens.ToString("N0", CultureInfo.InvariantCulture)} tokens (the whole request):");
            Rates(output, "      ", tier.Price);
        }
        if (lookup.Source == PriceSources.Catalog && lookup.Match is { Model.Prices.IsConditional: true } conditional)
        {
            output.WriteLine("    Prices by time (the last that applies wins, else the first):");
            foreach (var (constraint, set) in conditional.Model.Prices.Sets)
            {
                output.WriteLine($"      {(constraint is null ? "always" : constraint.ToString())}: input {Usd(set.Input)}, output {Usd(set.Output)}");
            }
        }
    }

    private static void Rates(TextWriter output, string indent, ModelPrice price)
    {
        output.WriteLine($"{indent}Input:        {Usd(price.Input)} per million tokens");
        output.WriteLine($"{indent}Cached input: {Usd(price.CachedInput)} per million tokens");
        output.WriteLine($"{indent}Cache write:  {(price.CacheWrite is { } write ? Usd(write) : Usd(price.Input) + " (the input price)")} per million tokens");
        output.WriteLine($"{indent}Output:       {Usd(price.Output)} per million tokens (reasoning included)");
        if (price.PerThousandRequests != 0)
        {
            output.WriteLine($"{indent}Requests:     {Usd(price.PerThousandRequests)} per thousand");
        }
    }

    private static string Source(PriceLookup lookup) => lookup.Source switch
    {
        PriceSources.Deployment => "the deployment's own price",
        PriceSources.Configured => $"configuration (prices.{lookup.ConfiguredKey})",
        PriceSources.Catalog => "the price catalog",
        _ => "none",
    };

    private static string Usd(decimal value) => "$" + value.ToString("0.00####", CultureInfo.InvariantCulture);
}
