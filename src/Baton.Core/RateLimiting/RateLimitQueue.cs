using Baton.Errors;

namespace Baton.RateLimiting;

/// <summary>
/// Waiting for capacity: a caller waits, on the injected clock, for the first of several deployments to
/// have room, instead of being refused. The wait is bounded; past it, the caller gets a 429 with the time
/// after which it would have been served.
/// </summary>
public static class RateLimitQueue
{
    /// <summary>
    /// Takes a lease on whichever of <paramref name="limiters"/> has capacity first, trying them in order,
    /// waiting at most <paramref name="maxWait"/>. Returns the index of the one that granted it.
    /// </summary>
    public static async Task<(int Index, RateLimitLease Lease)> AcquireAnyAsync(
        IReadOnlyList<DeploymentRateLimiter> limiters, int estimatedTokens, TimeSpan maxWait, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + maxWait;
        var freed = new Task[limiters.Count];
        var returned = new Task[limiters.Count];
        var wakers = new List<Task>(limiters.Count * 2);
        while (true)
        {
            // A bucket wait is known; a slot wait is not (a call must end), so it is unbounded (null) here.
            TimeSpan? soonest = null;
            var slotBound = false;
            wakers.Clear();
            for (var i = 0; i < limiters.Count; i++)
            {
                // Taken before trying, so a slot freed just after the try still wakes this waiter.
                freed[i] = limiters[i].Freed;
                returned[i] = limiters[i].SlotReturned;
                var attempt = await limiters[i].TryAcquireAsync(estimatedTokens, cancellationToken).ConfigureAwait(false);
                if (attempt.Lease is { } lease)
                {
                    return (i, lease);
                }
                wakers.Add(freed[i]);
                if (attempt.RetryAfter is { } wait)
                {
                    soonest = soonest is { } s && s < wait ? s : wait;
                }
                else
                {
                    slotBound = true;
                    wakers.Add(returned[i]);
                }
            }

            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero || (!slotBound && soonest > left))
            {
                throw Exceeded(limiters, maxWait, soonest ?? TimeSpan.FromSeconds(1));
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(soonest is { } known && known < left ? known : left, time, stop.Token);
            await Task.WhenAny(Task.WhenAny(wakers), delay).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static BatonException Exceeded(IReadOnlyList<DeploymentRateLimiter> limiters, TimeSpan maxWait, TimeSpan retryAfter) =>
        new(429, ErrorTypes.RateLimit,
            $"Rate limit reached for {string.Join(", ", limiters.Select(l => $"'{l.Deployment}'"))}: no capacity within the maximum wait of " +
            $"{maxWait.TotalSeconds:0.###} s (rateLimits.maxQueueWaitSeconds). Retry after {Math.Ceiling(retryAfter.TotalSeconds):0} s.",
            code: "rate_limited")
        {
            RetryAfter = retryAfter,
        };
}
