using System.Collections.Concurrent;

namespace Baton.RateLimiting;

/// <summary>Buckets in this process's memory, on the injected clock: exact for one instance.</summary>
public sealed class InMemoryRateLimitStore(TimeProvider time) : IRateLimitStore
{
    private readonly ConcurrentDictionary<string, State> _states = new(StringComparer.OrdinalIgnoreCase);

    public RateLimitDecision TryTake(string deployment, RateLimitSettings limits, int tokens)
    {
        var state = StateOf(deployment, limits);
        var now = time.GetUtcNow();
        lock (state)
        {
            var wait = state.PausedUntil > now ? state.PausedUntil - now : TimeSpan.Zero;
            if (state.Requests is { } requests)
            {
                wait = Max(wait, requests.TimeUntil(1, now));
            }
            if (state.Tokens is { } bucket)
            {
                wait = Max(wait, bucket.TimeUntil(tokens, now));
            }
            if (wait > TimeSpan.Zero)
            {
                return RateLimitDecision.Wait(wait);
            }
            state.Requests?.Take(1, now);
            state.Tokens?.Take(tokens, now);
            return RateLimitDecision.Grant;
        }
    }

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

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class State(RateLimitSettings limits, DateTimeOffset now)
    {
        public TokenBucket? Requests { get; } = limits.RequestsPerMinute is { } rpm ? new TokenBucket(rpm, now) : null;

        public TokenBucket? Tokens { get; } = limits.TokensPerMinute is { } tpm ? new TokenBucket(tpm, now) : null;

        public DateTimeOffset PausedUntil { get; set; }
    }
}
