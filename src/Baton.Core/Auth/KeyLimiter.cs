using System.Collections.Concurrent;
using Baton.Errors;
using Baton.RateLimiting;

namespace Baton.Auth;

/// <summary>
/// A virtual key's own limits: requests per minute, tokens per minute and requests in flight. Unlike a
/// deployment's limits, which queue a request until there is room, a key's limit refuses at once with 429
/// <c>rate_limited</c> and a <c>Retry-After</c>: the caller is over its share, and holding its requests would
/// only tie up the gateway. Buckets refill continuously from the injected clock.
/// </summary>
public sealed class KeyLimiter(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, KeyState> _states = new(StringComparer.Ordinal);

    /// <summary>
    /// Admits one request of <paramref name="key"/> whose prompt is about <paramref name="promptTokens"/> tokens,
    /// or throws 429 <c>rate_limited</c>. The lease frees the request's slot when disposed; its tokens are
    /// corrected with the reported usage by <see cref="KeyLease.Complete"/>.
    /// </summary>
    public KeyLease Admit(VirtualKey key, int promptTokens)
    {
        if (key.Rpm is null && key.Tpm is null && key.MaxParallel is null)
        {
            return KeyLease.None;
        }
        var state = _states.GetOrAdd(key.Id, _ => new KeyState());
        var now = time.GetUtcNow();
        lock (state)
        {
            state.Configure(key, now);
            if (key.MaxParallel is { } maxParallel && state.InFlight >= maxParallel)
            {
                throw Refused(key, $"{state.InFlight} request(s) in flight, its max_parallel of {maxParallel}", TimeSpan.FromSeconds(1));
            }
            if (state.Requests is { } requests && requests.TimeUntil(1, now) is { } requestWait && requestWait > TimeSpan.Zero)
            {
                throw Refused(key, $"its rpm of {requests.Capacity}", requestWait);
            }
            if (state.Tokens is { } tokens && tokens.TimeUntil(Math.Max(1, promptTokens), now) is { } tokenWait && tokenWait > TimeSpan.Zero)
            {
                throw Refused(key, $"its tpm of {tokens.Capacity}", tokenWait);
            }
            state.Requests?.Take(1, now);
            state.Tokens?.Take(promptTokens, now);
            state.InFlight++;
        }
        return new KeyLease(this, state, promptTokens);
    }

    internal void Release(KeyState state, int charged, int? actualTokens)
    {
        lock (state)
        {
            state.InFlight--;
            if (actualTokens is { } actual)
            {
                // The prompt was charged up front; the usage says what the request really took, completion included.
                state.Tokens?.Adjust(charged - actual, time.GetUtcNow());
            }
        }
    }

    private static BatonException Refused(VirtualKey key, string limit, TimeSpan retryAfter) =>
        new(429, ErrorTypes.RateLimit, $"Rate limit of key '{key.Name ?? key.Id}' reached: {limit}. Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.",
            code: "rate_limited")
        {
            RetryAfter = retryAfter,
        };

    internal sealed class KeyState
    {
        public TokenBucket? Requests { get; private set; }

        public TokenBucket? Tokens { get; private set; }

        public int InFlight { get; set; }

        /// <summary>Follows a key's limits as they are changed; a bucket is refilled only when its capacity changes.</summary>
        public void Configure(VirtualKey key, DateTimeOffset now)
        {
            if (Requests?.Capacity != key.Rpm)
            {
                Requests = key.Rpm is { } rpm ? new TokenBucket(rpm, now) : null;
            }
            if (Tokens?.Capacity != key.Tpm)
            {
                Tokens = key.Tpm is { } tpm ? new TokenBucket(tpm, now) : null;
            }
        }
    }
}

/// <summary>One admitted request's hold on its key's limits.</summary>
public sealed class KeyLease : IDisposable
{
    private readonly KeyLimiter? _limiter;
    private readonly KeyLimiter.KeyState? _state;
    private readonly int _charged;
    private int? _actual;
    private int _released;

    internal KeyLease(KeyLimiter? limiter, KeyLimiter.KeyState? state, int charged)
    {
        _limiter = limiter;
        _state = state;
        _charged = charged;
    }

    /// <summary>No key limit applies.</summary>
    public static KeyLease None { get; } = new(null, null, 0);

    /// <summary>Records the tokens the request really used, charged to the key's tpm when the lease ends.</summary>
    public void Complete(int totalTokens) => _actual = totalTokens;

    public void Dispose()
    {
        if (_limiter is not null && Interlocked.Exchange(ref _released, 1) == 0)
        {
            _limiter.Release(_state!, _charged, _actual);
        }
    }
}
