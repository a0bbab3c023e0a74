using Baton.Core.Tests.TestSupport;
using Baton.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.RateLimiting;

/// <summary>The token bucket and the limiter on a fake clock: refill is exact and nothing sleeps.</summary>
public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_bucket_refills_continuously_at_its_capacity_per_minute()
    {
        var bucket = new TokenBucket(60, _time.GetUtcNow());
        bucket.Take(60, _time.GetUtcNow());

        Assert.Equal(0, bucket.Level(_time.GetUtcNow()));
        Assert.Equal(TimeSpan.FromSeconds(1), bucket.TimeUntil(1, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromMilliseconds(2500));
        Assert.Equal(2.5, bucket.Level(_time.GetUtcNow()), precision: 9);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(60, bucket.Level(_time.GetUtcNow()));
    }

    [Fact]
    public void A_wait_computed_by_the_bucket_finds_the_tokens_there_when_it_ends()
    {
        var bucket = new TokenBucket(7, _time.GetUtcNow());
        bucket.Take(7, _time.GetUtcNow());
        var wait = bucket.TimeUntil(3, _time.GetUtcNow());

        _time.Advance(wait);

        Assert.Equal(TimeSpan.Zero, bucket.TimeUntil(3, _time.GetUtcNow()));
        Assert.InRange(wait.TotalSeconds, 60.0 * 3 / 7, 60.0 * 3 / 7 + 1e-6);
    }

    [Fact]
    public void Corrections_give_tokens_back_or_run_into_debt_and_a_request_larger_than_the_bucket_still_fits()
    {
        var bucket = new TokenBucket(100, _time.GetUtcNow());
        bucket.Take(80, _time.GetUtcNow());
        bucket.Adjust(50, _time.GetUtcNow());
        Assert.Equal(70, bucket.Level(_time.GetUtcNow()));
        bucket.Adjust(-120, _time.GetUtcNow());
        Assert.Equal(-50, bucket.Level(_time.GetUtcNow()));
        Assert.Equal(TimeSpan.FromSeconds(45), bucket.TimeUntil(25, _time.GetUtcNow()));
        Assert.Equal(TimeSpan.FromSeconds(90), bucket.TimeUntilFull(_time.GetUtcNow()));
        // 500 tokens never fit a bucket of 100: waiting for a full bucket is enough.
        Assert.Equal(bucket.TimeUntilFull(_time.GetUtcNow()), bucket.TimeUntil(500, _time.GetUtcNow()));
    }

    [Fact]
    public void The_limiter_refuses_without_waiting_and_says_how_long_until_it_would_grant()
    {
        var limiter = new DeploymentRateLimiter("p/m", new RateLimitSettings(2, null, null, TimeSpan.FromSeconds(30)), new InMemoryRateLimitStore(_time), _time);

        Assert.True(limiter.TryAcquire(10, out var first, out _));
        Assert.True(limiter.TryAcquire(10, out var second, out _));
        Assert.False(limiter.TryAcquire(10, out _, out var retryAfter));

        Assert.Equal(TimeSpan.FromSeconds(30), retryAfter);
        Assert.Equal(0, limiter.Snapshot()!.RemainingRequests);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(1), limiter.Snapshot()!.RequestsResetAt);
        first.Dispose();
        second.Dispose();
    }

    [Fact]
    public void The_concurrency_limit_holds_until_a_lease_ends()
    {
        var limiter = new DeploymentRateLimiter("p/m", new RateLimitSettings(null, null, 1, TimeSpan.FromSeconds(30)), new InMemoryRateLimitStore(_time), _time);

        Assert.True(limiter.TryAcquire(1, out var lease, out _));
        Assert.False(limiter.TryAcquire(1, out _, out var retryAfter));
        Assert.Null(retryAfter);
        var freed = limiter.Freed;
        lease.Dispose();
        lease.Dispose();

        Assert.True(freed.IsCompleted);
        Assert.Equal(0, limiter.InFlight);
        Assert.True(limiter.TryAcquire(1, out _, out _));
    }

    [Fact]
    public async Task AcquireAsync_waits_on_the_injected_clock_and_gives_up_past_the_maximum_wait()
    {
        var limiter = new DeploymentRateLimiter("p/m", new RateLimitSettings(1, null, null, TimeSpan.FromSeconds(30)), new InMemoryRateLimitStore(_time), _time);
        Assert.True(limiter.TryAcquire(1, out var first, out _));
        first.Dispose();

        var error = await Assert.ThrowsAsync<Baton.Errors.BatonException>(() => limiter.AcquireAsync(1, TimeSpan.FromSeconds(59), CancellationToken.None));
        Assert.Equal(429, error.StatusCode);
        Assert.Equal("rate_limited", error.Code);
        Assert.Equal(TimeSpan.FromSeconds(60), error.RetryAfter);

        var waiting = limiter.AcquireAsync(1, TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        using var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, limiter.InFlight);
    }

    [Fact]
    public void Settling_corrects_the_token_charge_once()
    {
        var limiter = new DeploymentRateLimiter("p/m", new RateLimitSettings(null, 1000, null, TimeSpan.FromSeconds(30)), new InMemoryRateLimitStore(_time), _time);
        Assert.True(limiter.TryAcquire(600, out var lease, out _));
        Assert.Equal(400, limiter.Snapshot()!.RemainingTokens);

        limiter.Settle(lease, 100);
        limiter.Settle(lease, 900);

        Assert.Equal(900, limiter.Snapshot()!.RemainingTokens);
    }

    [Fact]
    public void Upstream_headers_lower_the_budget_and_pause_when_nothing_is_left()
    {
        var limiter = new DeploymentRateLimiter("p/m", new RateLimitSettings(100, null, null, TimeSpan.FromSeconds(30)), new InMemoryRateLimitStore(_time), _time);

        limiter.Observe(new UpstreamRateLimit(5, null, TimeSpan.FromSeconds(3), null));
        Assert.Equal(5, limiter.Snapshot()!.RemainingRequests);

        limiter.Observe(new UpstreamRateLimit(7, 0, null, TimeSpan.FromSeconds(12)));
        Assert.False(limiter.TryAcquire(1, out _, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(12), retryAfter);
        Assert.Equal(0, limiter.Snapshot()!.RemainingRequests);
    }
}
