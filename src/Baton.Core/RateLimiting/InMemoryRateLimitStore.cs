using System.Collections.Concurrent;

namespace Baton.RateLimiting;

/// <summary>Buckets in this process's memory, on the injected clock: exact for one instance.</summary>
public sealed class InMemoryRateLimitStore(TimeProvider time) : IRateLimitStore
{
    private readonly ConcurrentDictionary<string, State> _states = new(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public ValueTask<RateLimitDecision> TryTakeAsync(string bucket, RateLimitSettings limits, int tokens, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TryTake(bucket, limits, tokens));

    /// <inheritdoc />
    public ValueTask ChargeAsync(string bucket, RateLimitSettings limits, int requests, int tokens, CancellationToken cancellationToken = default)
    {
        Charge(bucket, limits, requests, tokens);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask PauseUntilAsync(string bucket, RateLimitSettings limits, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        PauseUntil(bucket, limits, until);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask LowerToAsync(string bucket, RateLimitSettings limits, int? requests, int? tokens, CancellationToken cancellationToken = default)
    {
        LowerTo(bucket, limits, requests, tokens);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<RateLimitSnapshot?> SnapshotAsync(string bucket, RateLimitSettings limits, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Snapshot(bucket, limits));

    /// <summary>The synchronous form of <see cref="TryTakeAsync"/>.</summary>
    public RateLimitDecision TryTake(string deployment, RateLimitSettings limits, int tokens)
    {
        var state = StateOf(deployment, limits);
        var now = time.GetUtcNow();
        lock (state)
        {
            var wait = state.PausedUntil > now ? state.PausedUntil - now : TimeSpan.Zero;
            var reason = wait > TimeSpan.Zero ? RateLimitRefusal.Paused : RateLimitRefusal.None;
            if (state.Requests is { } requests && requests.TimeUntil(1, now) is var requestWait && requestWait > wait)
            {
                (wait, reason) = (requestWait, RateLimitRefusal.Requests);
            }
            if (state.Tokens is { } bucket && bucket.TimeUntil(tokens, now) is var tokenWait && tokenWait > wait)
            {
                (wait, reason) = (tokenWait, RateLimitRefusal.Tokens);
            }
            if (wait > TimeSpan.Zero)
            {
                return RateLimitDecision.Wait(wait, reason);
            }
            state.Requests?.Take(1, now);
            state.Tokens?.Take(tokens, now);
            return RateLimitDecision.Grant;
        }
    }

    /// <summary>The synchronous form of <see cref="ChargeAsync"/>.</summary>
    public void Charge(string deployment, RateLimitSettings limits, int requests, int tokens)
    {
        var state = StateOf(deployment, limits);
        var now = time.GetUtcNow();
        lock (state)
        {
            state.Requests?.Adjust(-requests, now);
            state.Tokens?.Adjust(-tokens, now);
        }
    }

    /// <summary>The synchronous form of <see cref="PauseUntilAsync"/>.</summary>
    public void PauseUntil(string deployment, RateLimitSettings limits, DateTimeOffset until)
    {
        var state = StateOf(deployment, limits);
        lock (state)
        {
            if (until > state.PausedUntil)
            {
                state.PausedUntil = until;
            }
        }
    }

    /// <summary>The synchronous form of <see cref="LowerToAsync"/>.</summary>
    public void LowerTo(string deployment, RateLimitSettings limits, int? requests, int? tokens)
    {
        var state = StateOf(deployment, limits);
        var now = time.GetUtcNow();
        lock (state)
        {
            if (requests is { } r)
            {
                state.Requests?.LowerTo(r, now);
            }
            if (tokens is { } t)
            {
                state.Tokens?.LowerTo(t, now);
            }
        }
    }

    /// <summary>The synchronous form of <see cref="SnapshotAsync"/>.</summary>
    public RateLimitSnapshot? Snapshot(string deployment, RateLimitSettings limits)
    {
        if (!limits.HasBuckets)
        {
            return null;
        }
        var state = StateOf(deployment, limits);
        var now = time.GetUtcNow();
        lock (state)
        {
            var paused = state.PausedUntil > now;
            return new RateLimitSnapshot(
                Remaining(state.Requests, paused, now),
                Remaining(state.Tokens, paused, now),
                ResetAt(state.Requests, state.PausedUntil, now),
                ResetAt(state.Tokens, state.PausedUntil, now));
        }
    }

    private State StateOf(string deployment, RateLimitSettings limits) =>
        _states.GetOrAdd(deployment, static (_, arg) => new State(arg.limits, arg.now), (limits, now: time.GetUtcNow()));

    private static int? Remaining(TokenBucket? bucket, bool paused, DateTimeOffset now) =>
        bucket is null ? null : paused ? 0 : (int)Math.Max(0, Math.Floor(bucket.Level(now) + 1e-9));

    private static DateTimeOffset? ResetAt(TokenBucket? bucket, DateTimeOffset pausedUntil, DateTimeOffset now)
    {
        if (bucket is null)
        {
            return null;
        }
        var full = now + bucket.TimeUntilFull(now);
        return pausedUntil > full ? pausedUntil : full;
    }

    private sealed class State(RateLimitSettings limits, DateTimeOffset now)
    {
        public TokenBucket? Requests { get; } = limits.RequestsPerMinute is { } rpm ? new TokenBucket(rpm, now) : null;

        public TokenBucket? Tokens { get; } = limits.TokensPerMinute is { } tpm ? new TokenBucket(tpm, now) : null;

        public DateTimeOffset PausedUntil { get; set; }
    }
}
