using Baton.Accounting.Budgets;
using Baton.Accounting.Ledger;
using Baton.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Baton.Accounting;

/// <summary>Registers prices, the ledger and budgets.</summary>
public static class AccountingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="PriceTable"/>, the <see cref="LedgerWriter"/> (when <c>ledger.enabled</c>; to the
    /// <see cref="ILedgerStore"/> registered, else to the SQLite file), the
    /// budget store (SQLite unless an <see cref="IBudgetStore"/> is already registered) and the
    /// <see cref="CostAccountant"/> the engine uses. The container disposes the writer at shutdown, which
    /// writes every queued row first.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="options">Baton's configuration.</param>
    /// <param name="reloadFrom">The configuration the options came from: prices and the catalog file follow its changes.</param>
    public static IServiceCollection AddBatonAccounting(this IServiceCollection services, BatonOptions options, IConfiguration? reloadFrom = null)
    {
        services.AddSingleton(sp => PriceReloader.Create(options, reloadFrom, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PriceTable>>()));
        var ledgerPath = options.Ledger.Enabled ? Path.GetFullPath(options.Ledger.Path) : null;
        if (ledgerPath is not null)
        {
            // The writer's linger and retry pauses stay on the real clock: they pace disk writes, and a fake clock
            // that a test never moves for them must not hold rows back.
            // A shared store (PostgreSQL) registered as an ILedgerStore takes the place of the file; the container owns it.
            // Past ledger.maxBacklog rows spill to the overflow file beside ledger.path, the shared store's included.
            services.AddSingleton(sp => sp.GetService<ILedgerStore>() is { } shared
                ? new LedgerWriter(shared, options.Ledger.BatchSize, sp.GetRequiredService<ILogger<LedgerWriter>>(),
                    maxBacklog: options.Ledger.MaxBacklog, overflowPath: LedgerWriter.OverflowPathOf(ledgerPath))
                : new LedgerWriter(ledgerPath, options.Ledger.BatchSize, sp.GetRequiredService<ILogger<LedgerWriter>>(), maxBacklog: options.Ledger.MaxBacklog));
        }
        // Virtual keys may carry budgets of their own, so with keys the gate is there even when no limit is configured.
        var hasBudgets = options.Budgets.Limits.Count > 0 || options.Auth.Enabled;
        if (hasBudgets)
        {
            var budgetPath = Path.GetFullPath(options.Budgets.Path ?? ledgerPath ?? options.Auth.DatabasePath(options));
            services.TryAddSingleton<IBudgetStore>(_ => new SqliteBudgetStore(budgetPath));
            services.AddSingleton(sp => new BudgetGate(new BudgetPolicy(options.Budgets), sp.GetRequiredService<IBudgetStore>(),
                sp.GetRequiredService<TimeProvider>(), TimeSpan.FromSeconds(options.Budgets.ReservationTimeoutSeconds)));
        }
        services.AddSingleton(sp => new CostAccountant(
            sp.GetRequiredService<PriceTable>(),
            sp.GetRequiredService<TimeProvider>(),
            ledgerPath is null ? null : sp.GetRequiredService<LedgerWriter>(),
            hasBudgets ? sp.GetRequiredService<BudgetGate>() : null)
        {
            Unpriced = UnpricedPolicy.From(options.Budgets),
        });
        return services;
    }
}
