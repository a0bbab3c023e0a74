using Baton.Providers;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Providers;

/// <summary>
/// The pool of total-timeout scopes: a scope is reused only once it is disposed and was never cancelled, and a reused
/// scope is a fresh timeout linked to its new caller alone.
/// </summary>
public sealed class TimeoutScopePoolTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(10);

    [Fact]
    public void A_disposed_scope_is_reused_with_its_source_and_is_not_cancelled()
    {
        var pool = new TimeoutScopePool();
        var first = pool.Rent(Long, TimeProvider.System, CancellationToken.None);
        var token = first.Token;
        Assert.True(token.CanBeCanceled);
        first.Dispose();
        Assert.Equal(1, pool.Count);

        using var second = pool.Rent(Long, TimeProvider.System, CancellationToken.None);

        Assert.Same(first, second);
        Assert.Equal(0, pool.Count);
        Assert.Equal(token, second.Token);
        Assert.False(second.Token.IsCancellationRequested);
        Assert.False(second.TimedOut);
        Assert.Equal(Long, second.Duration);
    }

    [Fact]
    public void A_reset_scope_drops_the_registrations_of_its_last_use()
    {
        var pool = new TimeoutScopePool();
        using var caller = new CancellationTokenSource();
        var first = pool.Rent(Long, TimeProvider.System, CancellationToken.None);
        var stale = 0;
        first.Token.Register(() => stale++);
        first.Dispose();

        using var second = pool.Rent(Long, TimeProvider.System, caller.Token);
        caller.Cancel();

        Assert.True(second.Token.IsCancellationRequested);
        Assert.False(second.TimedOut);
        // What the last request registered is not called back by this one's cancellation.
        Assert.Equal(0, stale);
    }

    [Fact]
    public void A_scope_cancelled_by_its_caller_is_never_handed_out_again()
    {
        var pool = new TimeoutScopePool();
        using var caller = new CancellationTokenSource();
        var cancelled = pool.Rent(Long, TimeProvider.System, caller.Token);
        var cancelledToken = cancelled.Token;
        caller.Cancel();
        Assert.True(cancelledToken.IsCancellationRequested);
        Assert.False(cancelled.TimedOut);
        cancelled.Dispose();

        using var next = pool.Rent(Long, TimeProvider.System, CancellationToken.None);

        // A token seen cancelled stays cancelled; the next request gets a new source.
        Assert.True(cancelledToken.IsCancellationRequested);
        Assert.NotEqual(cancelledToken, next.Token);
        Assert.False(next.Token.IsCancellationRequested);
    }

    [Fact]
    public void A_caller_already_cancelled_cancels_the_scope_at_once()
    {
        var pool = new TimeoutScopePool();
        using var scope = pool.Rent(Long, TimeProvider.System, new CancellationToken(canceled: true));

        Assert.True(scope.Token.IsCancellationRequested);
        Assert.False(scope.TimedOut);
    }

    [Fact]
    public void The_caller_of_a_reused_scope_is_its_new_one()
    {
        var pool = new TimeoutScopePool();
        using var firstCaller = new CancellationTokenSource();
        pool.Rent(Long, TimeProvider.System, firstCaller.Token).Dispose();
        using var secondCaller = new CancellationTokenSource();
        using var scope = pool.Rent(Long, TimeProvider.System, secondCaller.Token);

        // The first request's caller no longer reaches the scope once it was given back.
        firstCaller.Cancel();
        Assert.False(scope.Token.IsCancellationRequested);
        secondCaller.Cancel();
        Assert.True(scope.Token.IsCancellationRequested);
    }

    [Fact]
    public void Disposing_twice_gives_the_scope_back_once()
    {
        var pool = new TimeoutScopePool();
        var scope = pool.Rent(Long, TimeProvider.System, CancellationToken.None);
        scope.Dispose();
        scope.Dispose();

        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void The_pool_keeps_no_more_idle_scopes_than_its_capacity()
    {
        var pool = new TimeoutScopePool(capacity: 2);
        var scopes = Enumerable.Range(0, 3).Select(_ => pool.Rent(Long, TimeProvider.System, CancellationToken.None)).ToList();
        scopes.ForEach(scope => scope.Dispose());

        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public void Scopes_on_another_clock_or_without_a_finite_timeout_are_not_pooled()
    {
        var pool = new TimeoutScopePool();
        var time = new FakeTimeProvider();
        using (var fake = pool.Rent(TimeSpan.FromSeconds(5), time, CancellationToken.None))
        {
            time.Advance(TimeSpan.FromSeconds(5));
            Assert.True(fake.TimedOut);
        }
        using (var endless = pool.Rent(Timeout.InfiniteTimeSpan, TimeProvider.System, CancellationToken.None))
        {
            Assert.False(endless.Token.CanBeCanceled);
        }
        using (var zero = pool.Rent(TimeSpan.Zero, TimeProvider.System, CancellationToken.None))
        {
            Assert.True(zero.TimedOut);
        }

        Assert.Equal(0, pool.Count);
    }
}
