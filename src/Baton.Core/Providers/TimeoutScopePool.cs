using System.Collections.Concurrent;

namespace Baton.Providers;

/// <summary>
/// Reuses the total-timeout scopes of requests' attempts: each scope's cancellation source, the source's timer and its
/// registration lists are kept for the next request instead of being made (and collected) for every one. Only scopes on
/// the system clock with a finite, positive timeout are pooled; any other is made as a plain <see cref="TimeoutScope"/>.
/// </summary>
/// <remarks>
/// A reused source hands out the same token again, so a scope may be taken from the pool only by a caller that is
/// sure nothing reads its token once the scope is disposed: a request answered in full (every upstream call, its body
/// read and its rate-limit wait finished before it returns), or a stream's start, after which the stream reads on with
/// the caller's token alone (a registration the HTTP handler may still hold on the start's token is dropped by the
/// reset, below). A source that was cancelled is never reused (<see cref="CancellationTokenSource.TryReset"/>
/// refuses it), so a token seen cancelled never becomes uncancelled, and a stale holder of a reset token is never
/// called back by a later request's cancellation (the reset drops every registration).
/// </remarks>
internal sealed class TimeoutScopePool
{
    private readonly ConcurrentQueue<TimeoutScope> _free = new();
    private readonly int _capacity;
    private int _count;

    /// <param name="capacity">The most idle scopes kept: about the number of requests answered at the same time.</param>
    public TimeoutScopePool(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>Idle scopes held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>A started scope: a pooled one when it may be, else a new <see cref="TimeoutScope"/>.</summary>
    /// <param name="timeout">How long the scope lasts.</param>
    /// <param name="time">The clock the timeout runs on: only the system clock's scopes are pooled.</param>
    /// <param name="caller">The caller's cancellation, which also cancels the scope.</param>
    public TimeoutScope Rent(TimeSpan timeout, TimeProvider time, CancellationToken caller)
    {
        if (time != TimeProvider.System || timeout <= TimeSpan.Zero || timeout == Timeout.InfiniteTimeSpan)
        {
            return new TimeoutScope(timeout, time, caller);
        }
        TimeoutScope scope;
        if (_free.TryDequeue(out var idle))
        {
            Interlocked.Decrement(ref _count);
            scope = idle;
        }
        else
        {
            scope = new TimeoutScope(this);
        }
        scope.Begin(timeout, caller);
        return scope;
    }

    /// <summary>Takes back a disposed scope, unless the pool is full.</summary>
    internal void Return(TimeoutScope scope)
    {
        if (Interlocked.Increment(ref _count) > _capacity)
        {
            Interlocked.Decrement(ref _count);
            return;
        }
        _free.Enqueue(scope);
    }
}
