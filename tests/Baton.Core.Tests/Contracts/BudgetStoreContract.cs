using Baton.Accounting.Budgets;

namespace Baton.Core.Tests.Contracts;

/// <summary>
/// What every <see cref="IBudgetStore"/> does, run against each implementation (SQLite here; Redis in the gateway
/// tests): reservations are all-or-nothing across counters, settle replaces the reservation with the actual cost,
/// expired reservations stop counting, and concurrent reservations never overshoot a hard limit.
/// </summary>
public abstract class BudgetStoreContract : IAsyncLifetime
{
    /// <summary>A store; two calls give two views of one shared state.</summary>
    protected abstract IBudgetStore Create();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static readonly DateTimeOffset Start = DateTimeOffset.UtcNow;

    private static string Counter() => "budget:" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_reservation_is_all_or_nothing_across_its_counters()
    {
        var store = Create();
        var roomy = new BudgetCounter(Counter(), 10m);
        var tight = new BudgetCounter(Counter(), 1m);

        var first = await store.TryReserveAsync("r1", [roomy, tight], 0.6m, Start, Start.AddMinutes(5), CancellationToken.None);
        var second = await store.TryReserveAsync("r2", [roomy, tight], 0.6m, Start, Start.AddMinutes(5), CancellationToken.None);

        Assert.True(first.Granted);
        Assert.False(second.Granted);
        Assert.Equal(1, second.RefusedBy);
        Assert.Equal(new BudgetState(0m, 0.6m), second.Before[1]);
        Assert.Equal(new BudgetState(0m, 0.6m), await store.GetAsync(roomy.Key, Start, CancellationToken.None));
    }

    [Fact]
    public async Task Settling_replaces_the_reservation_with_the_actual_cost()
    {
        var store = Create();
        var counter = new BudgetCounter(Counter(), 1m);

        Assert.True((await store.TryReserveAsync("r1", [counter], 0.5m, Start, Start.AddMinutes(5), CancellationToken.None)).Granted);
        await store.SettleAsync("r1", [counter.Key], 0.123456m, CancellationToken.None);
        // Settling twice (a retry of the call) does not count the reservation again.
        await store.SettleAsync("r1", [counter.Key], 0m, CancellationToken.None);

        Assert.Equal(new BudgetState(0.123456m, 0m), await store.GetAsync(counter.Key, Start, CancellationToken.None));
    }

    [Fact]
    public async Task An_expired_reservation_no_longer_counts()
    {
        var store = Create();
        var counter = new BudgetCounter(Counter(), 1m);

        Assert.True((await store.TryReserveAsync("r1", [counter], 0.9m, Start, Start.AddSeconds(30), CancellationToken.None)).Granted);

        Assert.Equal(0m, (await store.GetAsync(counter.Key, Start.AddSeconds(31), CancellationToken.None)).ReservedUsd);
        Assert.True((await store.TryReserveAsync("r2", [counter], 0.9m, Start.AddSeconds(31), Start.AddMinutes(5), CancellationToken.None)).Granted);
    }

    [Fact]
    public async Task Concurrent_reservations_from_several_views_never_overshoot_the_hard_limit()
    {
        var views = new[] { Create(), Create(), Create() };
        var counter = new BudgetCounter(Counter(), 1m);

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(async () =>
            await views[i % 3].TryReserveAsync("r" + i, [counter], 0.1m, Start, Start.AddMinutes(5), CancellationToken.None))));

        Assert.Equal(10, results.Count(r => r.Granted));
        Assert.Equal(1m, (await views[0].GetAsync(counter.Key, Start, CancellationToken.None)).ReservedUsd);
    }
}
