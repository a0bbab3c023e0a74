using Baton.Configuration;

namespace Baton.Accounting;

/// <summary>
/// What a budgeted request does with a deployment that has no price: refused (no default price), or estimated
/// and billed at <see cref="DefaultPrice"/>. See <c>budgets.unpriced</c>.
/// </summary>
public sealed record UnpricedPolicy(ModelPrice? DefaultPrice)
{
    /// <summary>Refuse budgeted requests that may reach an unpriced deployment.</summary>
    public static UnpricedPolicy Refuse { get; } = new((ModelPrice?)null);

    public static UnpricedPolicy From(BudgetOptions budgets) =>
        string.Equals(budgets.Unpriced, UnpricedHandling.Estimate, StringComparison.OrdinalIgnoreCase) &&
        budgets.DefaultPrice is { Input: { } input, Output: { } output } price
            ? new UnpricedPolicy(new ModelPrice(input, price.CachedInput ?? input, output, price.CacheWrite))
            : Refuse;
}
