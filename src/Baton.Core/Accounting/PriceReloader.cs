using Baton.Accounting.Catalog;
using Baton.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Baton.Accounting;

/// <summary>
/// Builds the <see cref="PriceTable"/> from configuration (the catalog file of <c>prices.catalogPath</c>, else the
/// shipped snapshot) and, given the configuration it came from, rebuilds its prices whenever that configuration
/// is reloaded, so a newer <c>data.json</c> or a changed price takes effect without a restart. A broken change
/// is refused, logged, and the prices in force stay.
/// </summary>
internal static partial class PriceReloader
{
    public static PriceTable Create(BatonOptions options, IConfiguration? reloadFrom, TimeProvider time, ILogger logger)
    {
        var table = new PriceTable(options.Prices, Catalog(options.Prices, logger), time);
        if (reloadFrom is not null)
        {
            // The subscription lives as long as the configuration, like the table: both last the whole process.
            ChangeToken.OnChange(reloadFrom.GetReloadToken, () => Reload(table, reloadFrom, logger));
        }
        return table;
    }

    private static PriceCatalog? Catalog(PricesOptions prices, ILogger logger)
    {
        if (prices.CatalogPath is not { } path)
        {
            return null;
        }
        if (PriceCatalogFile.TryLoad(path, out var catalog) is { } problem)
        {
            // Validation at start-up refuses a bad file; this is reached only when the file broke in between.
            Log.CatalogRefused(logger, problem);
            return null;
        }
        Log.CatalogLoaded(logger, catalog!.Source, catalog.Providers.Sum(p => p.Models.Count));
        return catalog;
    }

    private static void Reload(PriceTable table, IConfiguration configuration, ILogger logger)
    {
        var errors = new List<string>();
        var prices = PricesSectionReader.Read(configuration, errors);
        foreach (var (id, price) in prices)
        {
            AccountingValidator.ValidatePrice($"prices.{id}", price, errors);
        }
        PriceCatalog? catalog = null;
        if (prices.CatalogPath is { } path && PriceCatalogFile.TryLoad(path, out catalog) is { } problem)
        {
            errors.Add($"prices.{PricesOptions.CatalogPathKey}: {problem}");
        }
        if (errors.Count > 0)
        {
            Log.ReloadRefused(logger, string.Join(" ", errors));
            return;
        }
        table.Reload(prices, catalog);
        Log.Reloaded(logger, prices.Count, table.Catalog.Source);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Price catalog loaded from {Source}: {Models} models")]
        public static partial void CatalogLoaded(ILogger logger, string source, int models);

        [LoggerMessage(2, LogLevel.Warning, "Price catalog not loaded, the built-in snapshot is used: {Problem}")]
        public static partial void CatalogRefused(ILogger logger, string problem);

        [LoggerMessage(3, LogLevel.Information, "Prices reloaded: {Configured} configured prices over the catalog {Source}")]
        public static partial void Reloaded(ILogger logger, int configured, string source);

        [LoggerMessage(4, LogLevel.Warning, "Price change refused, the prices in force stay: {Errors}")]
        public static partial void ReloadRefused(ILogger logger, string errors);
    }
}
