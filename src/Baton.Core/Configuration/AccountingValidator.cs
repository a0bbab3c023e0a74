namespace Baton.Configuration;

/// <summary>Checks the <c>prices</c>, <c>ledger</c> and <c>budgets</c> keys, naming each bad key by its path.</summary>
internal static class AccountingValidator
{
    public static void Validate(BatonOptions options, List<string> errors)
    {
        foreach (var (id, price) in options.Prices)
        {
            ValidatePrice($"prices.{id}", price, errors);
        }
        if (options.Prices.CatalogPath is { } catalogPath && Accounting.Catalog.PriceCatalogFile.TryLoad(catalogPath, out _) is { } problem)
        {
            errors.Add($"prices.{PricesOptions.CatalogPathKey}: {problem}");
        }
        if (options.Ledger.Enabled && string.IsNullOrWhiteSpace(options.Ledger.Path))
        {
            errors.Add("ledger.path: missing; give a file for the SQLite ledger (default 'baton.db'), or set ledger.enabled to false.");
        }
        else if (options.Ledger.Path.Trim() == ":memory:")
        {
            // An in-memory ledger would lose every row at shutdown: the ledger's whole point is to be durable.
            errors.Add("ledger.path: ':memory:' is not durable; give a file path.");
        }
        if (options.Ledger.BatchSize is < 1 or > 100_000)
        {
            errors.Add($"ledger.batchSize: {options.Ledger.BatchSize} is out of range 1 to 100000.");
        }
        if (options.Ledger.MaxBacklog is < 1 or > 10_000_000)
        {
            errors.Add($"ledger.maxBacklog: {options.Ledger.MaxBacklog} is out of range 1 to 10000000.");
        }
        if (options.Ledger.RetentionDays is < 1 or > 36_500)
        {
            errors.Add($"ledger.retentionDays: {options.Ledger.RetentionDays} is out of range 1 to 36500; leave it out to keep every row.");
        }
        if (options.Postgres.Connection is { } connection && string.IsNullOrWhiteSpace(connection))
        {
            errors.Add("postgres.connection: empty; give an Npgsql connection string (Host=...;Database=...;Username=...), or remove the key to use SQLite.");
        }
        ValidateBudgets(options, errors);
    }

    public static void ValidatePrice(string path, PriceOptions price, List<string> errors)
    {
        foreach (var (key, value) in new (string, decimal?)[] { ("input", price.Input), ("cachedInput", price.CachedInput), ("output", price.Output), ("cacheWrite", price.CacheWrite) })
        {
            if (value is < 0)
            {
                errors.Add($"{path}.{key}: {value} must not be negative.");
            }
        }
    }

    private static void ValidateBudgets(BatonOptions options, List<string> errors)
    {
        var budgets = options.Budgets;
        if (budgets.Limits.Count > 0 && !options.Ledger.Enabled && string.IsNullOrWhiteSpace(budgets.Path) && !options.Postgres.Enabled)
        {
            errors.Add("budgets.path: budgets keep their state in SQLite; set budgets.path, or enable the ledger whose file they share.");
        }
        if (budgets.ReservationTimeoutSeconds is <= 0 or > 86_400 || double.IsNaN(budgets.ReservationTimeoutSeconds))
        {
            errors.Add($"budgets.reservationTimeoutSeconds: {budgets.ReservationTimeoutSeconds} is out of range (0, 86400].");
        }
        if (budgets.Unpriced is { } unpriced && !UnpricedHandling.All.Contains(unpriced, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"budgets.unpriced: unknown value '{unpriced}'; expected one of {Known(UnpricedHandling.All)}.");
        }
        if (budgets.DefaultPrice is { } defaultPrice)
        {
            ValidatePrice("budgets.defaultPrice", defaultPrice, errors);
        }
        if (string.Equals(budgets.Unpriced, UnpricedHandling.Estimate, StringComparison.OrdinalIgnoreCase) &&
            budgets.DefaultPrice is not { Input: not null, Output: not null })
        {
            errors.Add("budgets.defaultPrice: 'unpriced' is 'estimate': give the input and output prices to estimate unpriced deployments at.");
        }
        foreach (var (name, limit) in budgets.Limits)
        {
            var path = $"budgets.limits.{name}";
            if (string.IsNullOrWhiteSpace(limit.Scope))
            {
                errors.Add($"{path}.scope: missing; expected one of {Known(BudgetScopes.All)}.");
            }
            else if (!BudgetScopes.All.Contains(limit.Scope, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{path}.scope: unknown scope '{limit.Scope}'; expected one of {Known(BudgetScopes.All)}.");
            }
            else if (limit.Match is not null && limit.Scope.Equals(BudgetScopes.Global, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{path}.match: a global budget matches every request; leave 'match' out.");
            }
            if (limit.Period is { } period && !BudgetPeriods.All.Contains(period, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{path}.period: unknown period '{period}'; expected one of {Known(BudgetPeriods.All)}.");
            }
            if (limit.SoftUsd is null && limit.HardUsd is null)
            {
                errors.Add($"{path}: set softUsd, hardUsd or both.");
            }
            if (limit.SoftUsd is < 0)
            {
                errors.Add($"{path}.softUsd: must not be negative.");
            }
            if (limit.HardUsd is < 0)
            {
                errors.Add($"{path}.hardUsd: must not be negative.");
            }
            if (limit is { SoftUsd: { } soft, HardUsd: { } hard } && soft > hard)
            {
                errors.Add($"{path}.softUsd: {soft} is above hardUsd {hard}; the warning would never be seen.");
            }
        }
    }

    private static string Known(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}
