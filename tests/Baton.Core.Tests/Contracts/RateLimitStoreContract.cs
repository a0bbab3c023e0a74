using Baton.RateLimiting;

namespace Baton.Core.Tests.Contracts;

/// <summary>
/// What every <see cref="IRateLimitStore"/> does, run against each implementation (memory here; Redis in the
/// gateway tests). The clock is the store's own: a shared store reads the server's, so no test here lets time
/// pass; waits are checked within the refill of the few milliseconds a test takes.
/// </summary>
public abstract class RateLimitStoreContract : IAsyncLifetime
{
    /// <summary>A store; two calls give two views of one shared state when the implementation shares it.</summary>
    protected abstract IRateLimitStore Create();

    /// <summary>The store's notion of now (the injected clock of an in-process store, the local clock otherwise).</summary>
    protected abstract DateTimeOffset Now { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static string Bucket() => "test/" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_request_bucket_grants_its_capacity_then_says_how_long_until_the_next()
    {
        var store = Create();
        var bucket = Bucket();
        var limits = new RateLimitSettings(3, null, null, TimeSpan.Zero);

        for (var i = 0; i < 3; i++)
        {
            Assert.True((await store.TryTakeAsync(bucket, limits, 0)).Granted);
        }
        var refused = await store.TryTakeAsync(bucket, limits, 0);

        Assert.False(refused.Granted);
        Assert.Equal(RateLimitRefusal.Requests, refused.Reason);
        // One request of a 3-a-minute bucket comes back in 20 s, less what refilled while the test ran.
        Assert.InRange(refused.RetryAfter, TimeSpan.FromSeconds(19), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_token_bucket_takes_nothing_when_it_refuses_and_reports_what_is_left()
    {
        var store = Create();
        var bucket = Bucket();
        // Six requests a minute: a shared store, refilling on the server's clock, gives back a request only after ten
        // seconds, so the count left shows the refused take even on a slow run.
        var limits = new RateLimitSettings(6, 1000, null, TimeSpan.Zero);

        Assert.True((await store.TryTakeAsync(bucket, limits, 600)).Granted);
        var refused = await store.TryTakeAsync(bucket, limits, 600);
        var snapshot = await store.SnapshotAsync(bucket, limits);

        Assert.False(refused.Granted);
        Assert.Equal(RateLimitRefusal.Tokens, refused.Reason);
        Assert.NotNull(snapshot);
        // The refused take took no request and no tokens.
        Assert.Equal(5, snapshot.RemainingRequests);
        // A shared store refills on the server's clock while the test runs: 17 tokens a second here.
        Assert.InRange(snapshot.RemainingTokens!.Value, 400, 440);
        Assert.InRange(snapshot.TokensResetAt!.Value - Now, TimeSpan.FromSeconds(33), TimeSpan.FromSeconds(36.1));
    }

    [Fact]
    public async Task Charges_give_tokens_back_or_run_into_debt()
    {
        var store = Create();
        var bucket = Bucket();
        var limits = new RateLimitSettings(null, 600, null, TimeSpan.Zero);

        Assert.True((await store.TryTakeAsync(bucket, limits, 500)).Granted);
        await store.ChargeAsync(bucket, limits, 0, -300);
        Assert.InRange((await store.SnapshotAsync(bucket, limits))!.RemainingTokens!.Value, 400, 420);

        await store.ChargeAsync(bucket, limits, 0, 700);
        var refused = await store.TryTakeAsync(bucket, limits, 1);

        Assert.False(refused.Granted);
        Assert.Equal(0, (await store.SnapshotAsync(bucket, limits))!.RemainingTokens);
        // 300 tokens of debt and one more to take: 301 tokens at 10 a second.
        Assert.InRange(refused.RetryAfter, TimeSpan.FromSeconds(28), TimeSpan.FromSeconds(30.1));
    }

    [Fact]
    public async Task A_pause_refuses_until_it_ends_and_an_earlier_one_does_not_shorten_it()
    {
        var store = Create();
        var bucket = Bucket();
        var limits = new RateLimitSettings(100, null, null, TimeSpan.Zero);

        await store.PauseUntilAsync(bucket, limits, Now + TimeSpan.FromSeconds(12));
        await store.PauseUntilAsync(bucket, limits, Now + TimeSpan.FromSeconds(2));
        var refused = await store.TryTakeAsync(bucket, limits, 0);

        Assert.False(refused.Granted);
        Assert.Equal(RateLimitRefusal.Paused, refused.Reason);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromSeconds(11), TimeSpan.FromSeconds(12));
        Assert.Equal(0, (await store.SnapshotAsync(bucket, limits))!.RemainingRequests);
    }

    [Fact]
    public async Task Upstream_headroom_lowers_a_bucket_and_never_raises_it()
    {
        var store = Create();
        var bucket = Bucket();
        var limits = new RateLimitSettings(100, 10_000, null, TimeSpan.Zero);

        await store.LowerToAsync(bucket, limits, 5, null);
        await store.LowerToAsync(bucket, limits, 50, 20_000);
        var snapshot = await store.SnapshotAsync(bucket, limits);

        Assert.InRange(snapshot!.RemainingRequests!.Value, 5, 6);
        Assert.Equal(10_000, snapshot.RemainingTokens);
    }

    [Fact]
    public async Task Buckets_are_separate_and_a_bucketless_limit_has_no_snapshot()
    {
        var store = Create();
        var limits = new RateLimitSettings(1, null, null, TimeSpan.Zero);
        var first = Bucket();

        Assert.True((await store.TryTakeAsync(first, limits, 0)).Granted);
        Assert.False((await store.TryTakeAsync(first, limits, 0)).Granted);
        Assert.True((await store.TryTakeAsync(Bucket(), limits, 0)).Granted);
        Assert.Null(await store.SnapshotAsync(Bucket(), new RateLimitSettings(null, null, 4, TimeSpan.Zero)));
    }

    [Fact]
    public async Task Concurrent_takes_from_several_views_grant_exactly_the_capacity()
    {
        var views = new[] { Create(), Create(), Create() };
        var bucket = Bucket();
        var limits = new RateLimitSettings(20, null, null, TimeSpan.Zero);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(async () => await views[i % 3].TryTakeAsync(bucket, limits, 0))));

        Assert.Equal(20, decisions.Count(d => d.Granted));
    }
}
