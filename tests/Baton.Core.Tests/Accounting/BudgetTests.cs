using Baton.Accounting;
using Baton.Accounting.Budgets;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Core.Tests.Accounting;

public sealed class BudgetTests : IDisposable
{
    private readonly TempDatabase _db = new();
    private readonly EngineHarness _harness = new();
    private readonly List<SqliteBudgetStore> _stores = [];

    public void Dispose()
    {
        _stores.ForEach(s => s.Dispose());
        _db.Dispose();
    }

    private SqliteBudgetStore Store()
    {
        var store = new SqliteBudgetStore(_db.Path);
        _stores.Add(store);
        return store;
    }

    /// <summary>A model priced at $1 per million input and output tokens, so costs are easy to read.</summary>
    private ScriptedProvider Setup(params (string Name, BudgetLimitOptions Limit)[] limits)
    {
        _harness.Model("m1", "up");
        _harness.Options.Prices["m"] = new PriceOptions { Input = 1m, Output = 1m };
        foreach (var (name, limit) in limits)
        {
            _harness.Options.Budgets.Limits[name] = limit;
        }
        _harness.Accounting = new CostAccountant(new PriceTable(_harness.Options.Prices), _harness.Time, budgets:
            new BudgetGate(new BudgetPolicy(_harness.Options.Budgets), Store(), _harness.Time, TimeSpan.FromMinutes(10)));
        return _harness.Provider("up");
    }

    private static Baton.Requests.ChatRequest Request(string session = "s1", int maxTokens = 1000) =>
        EngineHarness.Request("m1", metadata: $$""","max_tokens":{{maxTokens}},"metadata":{"session_id":"{{session}}"}""");

    [Fact]
    public async Task A_request_over_the_hard_limit_is_refused_before_any_upstream_call()
    {
        // Worst case of one request: ~10 prompt tokens + 1000 completion tokens at $1/M = about $0.001.
        var upstream = Setup(("per-session", new BudgetLimitOptions { Scope = "session", HardUsd = 0.0005m }));

        var error = await Assert.ThrowsAsync<BatonException>(() => _harness.Engine.CompleteAsync(Request(), CancellationToken.None));

        Assert.Equal(0, upstream.Calls);
        Assert.Equal(429, error.StatusCode);
        Assert.Equal("budget_exceeded", error.Code);
        Assert.Equal("insufficient_quota", error.Type);
        Assert.Contains("'per-session' (session 's1', total)", error.Message);
        Assert.Null(error.RetryAfter);
        // Another session has its own budget.
        Assert.Equal(0, upstream.Calls);
    }

    [Fact]
    public async Task Spending_is_settled_with_the_real_cost_and_refuses_once_the_limit_is_reached()
    {
        var upstream = Setup(("per-session", new BudgetLimitOptions { Scope = "session", HardUsd = 0.003m }));
        upstream.Answer(usage: TokenUsage.Of(500, 500), times: 10);

        // Each answer really costs $0.001 (1000 tokens), and reserves $0.001007 at admission (7 prompt tokens, 1000 max_tokens).
        using (var first = (await _harness.CompleteAsync(Request())).Result)
        {
            Assert.Equal(0.001m, first.CostUsd);
        }
        using (await Task.FromResult((await _harness.CompleteAsync(Request())).Result)) { }
        var state = await _stores[0].GetAsync("per-session|session|s1|all", _harness.Time.GetUtcNow(), default);
        Assert.Equal(new BudgetState(0.002m, 0m), state);

        // $0.002 spent + $0.00101 worst case > $0.003: refused; a smaller request still fits.
        await Assert.ThrowsAsync<BatonException>(() => _harness.Engine.CompleteAsync(Request(), CancellationToken.None));
        using (await Task.FromResult((await _harness.CompleteAsync(Request(maxTokens: 500))).Result)) { }
        Assert.Equal(3, upstream.Calls);
        using (await Task.FromResult((await _harness.CompleteAsync(Request("s2"))).Result)) { }
    }

    [Fact]
    public async Task Crossing_the_soft_limit_warns()
    {
        var upstream = Setup(("team", new BudgetLimitOptions { Scope = "global", SoftUsd = 0.0015m, HardUsd = 1m }));
        upstream.Answer(usage: TokenUsage.Of(500, 500), times: 3);

        using var first = (await _harness.CompleteAsync(Request())).Result;
        Assert.Empty(first.BudgetWarnings);
        using var second = (await _harness.CompleteAsync(Request())).Result;
        Assert.Equal("budget 'team' (global, total) may reach $0.002007 of its $0.0015 soft limit", Assert.Single(second.BudgetWarnings));
    }

    [Fact]
    public async Task Concurrent_reservations_cannot_overshoot()
    {
        var store = Store();
        var counters = new[] { new BudgetCounter("global|global||all", 0.5m) };
        var now = _harness.Time.GetUtcNow();
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
            (await store.TryReserveAsync($"r{i}", counters, 0.01m, now, now.AddMinutes(10), default)).Granted)));

        Assert.Equal(50, results.Count(granted => granted));
        Assert.Equal(new BudgetState(0, 0.5m), await store.GetAsync("global|global||all", now, default));
    }

    [Fact]
    public async Task State_survives_a_restart_and_stale_reservations_expire()
    {
        var now = _harness.Time.GetUtcNow();
        var counters = new[] { new BudgetCounter("k", 1m) };
        var first = Store();
        await first.TryReserveAsync("a", counters, 0.4m, now, now.AddMinutes(10), default);
        await first.SettleAsync("a", ["k"], 0.3m, default);
        // A reservation whose process dies before settling.
        await first.TryReserveAsync("b", counters, 0.5m, now, now.AddMinutes(10), default);
        first.Dispose();
        _stores.Remove(first);

        var second = Store();
        Assert.Equal(new BudgetState(0.3m, 0.5m), await second.GetAsync("k", now, default));
        Assert.False((await second.TryReserveAsync("c", counters, 0.3m, now, now.AddMinutes(10), default)).Granted);
        // After the reservation timeout, only what was spent counts.
        var later = now.AddMinutes(11);
        Assert.Equal(new BudgetState(0.3m, 0m), await second.GetAsync("k", later, default));
        Assert.True((await second.TryReserveAsync("c", counters, 0.3m, later, later.AddMinutes(10), default)).Granted);
    }

    [Fact]
    public async Task Daily_and_monthly_budgets_roll_over_on_the_clock()
    {
        _harness.Time.SetUtcNow(new DateTimeOffset(2026, 1, 31, 23, 0, 0, TimeSpan.Zero));
        var upstream = Setup(
            ("daily", new BudgetLimitOptions { Scope = "session", Period = "daily", HardUsd = 0.0015m }),
            ("monthly", new BudgetLimitOptions { Scope = "session", Period = "monthly", HardUsd = 0.0025m }));
        upstream.Answer(usage: TokenUsage.Of(500, 500), times: 10);

        using (await Task.FromResult((await _harness.CompleteAsync(Request())).Result)) { }
        var daily = await Assert.ThrowsAsync<BatonException>(() => _harness.Engine.CompleteAsync(Request(), CancellationToken.None));
        Assert.Contains("'daily'", daily.Message);
        Assert.Equal(TimeSpan.FromHours(1), daily.RetryAfter);

        // A new day and a new month: both windows start at zero.
        _harness.Time.SetUtcNow(new DateTimeOffset(2026, 2, 1, 0, 0, 1, TimeSpan.Zero));
        using (await Task.FromResult((await _harness.CompleteAsync(Request())).Result)) { }
        _harness.Time.SetUtcNow(new DateTimeOffset(2026, 2, 2, 9, 0, 0, TimeSpan.Zero));
        using (await Task.FromResult((await _harness.CompleteAsync(Request())).Result)) { }
        // Third request of February: the daily window is fresh, but the month has $0.002 of $0.0025.
        _harness.Time.SetUtcNow(new DateTimeOffset(2026, 2, 3, 9, 0, 0, TimeSpan.Zero));
        var monthly = await Assert.ThrowsAsync<BatonException>(() => _harness.Engine.CompleteAsync(Request(), CancellationToken.None));
        Assert.Contains("'monthly'", monthly.Message);
        Assert.Equal(3, upstream.Calls);
    }

    [Fact]
    public async Task A_failed_request_releases_its_reservation()
    {
        var upstream = Setup(("g", new BudgetLimitOptions { Scope = "global", HardUsd = 1m }));
        upstream.Fail(400);
        await Assert.ThrowsAsync<BatonException>(() => _harness.Engine.CompleteAsync(Request(), CancellationToken.None));
        Assert.Equal(new BudgetState(0, 0), await _stores[0].GetAsync("g|global||all", _harness.Time.GetUtcNow(), default));
    }

    [Fact]
    public async Task A_free_first_deployment_reserves_for_the_paid_fallback_it_may_reach()
    {
        // OpenRouter's :free model first, a paid deployment after it: the request may end up paying.
        _harness.Model("m1", "free", "paid");
        _harness.Options.Prices["free/m"] = new PriceOptions { Input = 0m, Output = 0m };
        _harness.Options.Prices["paid/m"] = new PriceOptions { Input = 1m, Output = 1m };
        _harness.Options.Budgets.Limits["per-session"] = new BudgetLimitOptions { Scope = "session", HardUsd = 0.0015m };
        _harness.Accounting = new CostAccountant(new PriceTable(_harness.Options.Prices), _harness.Time, budgets:
            new BudgetGate(new BudgetPolicy(_harness.Options.Budgets), Store(), _harness.Time, TimeSpan.FromMinutes(10)));
        var free = _harness.Provider("free");
        free.Hang();

        // The first request is admitted at the paid worst case ($0.001007) and holds it while the free deployment works on it...
        using var stop = new CancellationTokenSource();
        var first = _harness.Engine.CompleteAsync(Request(), stop.Token);
        Assert.Equal(new BudgetState(0, 0.001007m), await _stores[0].GetAsync("per-session|session|s1|all", _harness.Time.GetUtcNow(), default));
        // ...so a second one cannot also be admitted on the strength of the free deployment's $0 estimate.
        var second = await Assert.ThrowsAsync<BatonException>(() => _harness.Engine.CompleteAsync(Request(), CancellationToken.None));
        Assert.Equal("budget_exceeded", second.Code);
        Assert.Equal(1, free.Calls);
        Assert.False(first.IsCompleted);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(() => first);
    }

    [Fact]
    public async Task An_unpriced_deployment_is_refused_under_a_budget_unless_a_default_price_estimates_it()
    {
        // Upstream model "m" is in no catalog and has no configured price.
        _harness.Model("m1", "local");
        _harness.Options.Budgets.Limits["s1-only"] = new BudgetLimitOptions { Scope = "session", Match = "s1", HardUsd = 1m };
        var local = _harness.Provider("local");
        local.Answer(usage: TokenUsage.Of(500, 500), times: 3);
        _harness.Accounting = new CostAccountant(new PriceTable(_harness.Options.Prices), _harness.Time, budgets:
            new BudgetGate(new BudgetPolicy(_harness.Options.Budgets), Store(), _harness.Time, TimeSpan.FromMinutes(10)));

        var refused = await Assert.ThrowsAsync<BatonException>(() => _harness.Engine.CompleteAsync(Request(), CancellationToken.None));
        Assert.Equal(400, refused.StatusCode);
        Assert.Equal("unpriced_deployment", refused.Code);
        Assert.Contains("'local/m'", refused.Message);
        Assert.Equal(0, local.Calls);
        // No budget applies to another session: nothing to keep, so nothing is refused.
        using (await Task.FromResult((await _harness.CompleteAsync(Request("s2"))).Result)) { }

        // Estimated and billed at the configured default price: $1 per million tokens.
        var harness = new EngineHarness();
        harness.Model("m1", "local").Deployments[0].Provider = "local";
        harness.Provider("local").Answer(usage: TokenUsage.Of(500, 500));
        harness.Options.Budgets.Limits["s1-only"] = new BudgetLimitOptions { Scope = "session", Match = "s1", HardUsd = 1m };
        var store = Store();
        harness.Accounting = new CostAccountant(new PriceTable(), harness.Time, budgets:
            new BudgetGate(new BudgetPolicy(harness.Options.Budgets), store, harness.Time, TimeSpan.FromMinutes(10)))
        {
            Unpriced = UnpricedPolicy.From(new BudgetOptions { Unpriced = UnpricedHandling.Estimate, DefaultPrice = new PriceOptions { Input = 1m, Output = 1m } }),
        };
        using var answer = (await harness.CompleteAsync(Request())).Result;
        Assert.Equal(0.001m, answer.CostUsd);
        Assert.Equal(new BudgetState(0.001m, 0), await store.GetAsync("s1-only|session|s1|all", harness.Time.GetUtcNow(), default));
    }

    [Fact]
    public void Tags_users_and_keys_each_get_their_own_counter()
    {
        var options = new BudgetOptions();
        options.Limits["per-tag"] = new BudgetLimitOptions { Scope = "tag", HardUsd = 1 };
        options.Limits["alice"] = new BudgetLimitOptions { Scope = "user", Match = "alice", HardUsd = 1 };
        options.Limits["per-key"] = new BudgetLimitOptions { Scope = "key", Period = "monthly", HardUsd = 1 };
        var request = EngineHarness.Request("m1", metadata: ""","user":"alice","metadata":{"tags":"team-a, nightly"}""");
        request.Options = request.Options with { ApiKeyId = "key-0123" };

        var keys = new BudgetPolicy(options).For(request, new DateTimeOffset(2026, 3, 5, 0, 0, 0, TimeSpan.Zero)).Select(b => b.CounterKey);

        Assert.Equal(["per-tag|tag|team-a|all", "per-tag|tag|nightly|all", "alice|user|alice|all", "per-key|key|key-0123|2026-03"], keys);
    }
}
