using System.Collections.Concurrent;
using Baton.Errors;
using Baton.RateLimiting;

namespace Baton.Auth;

/// <summary>
/// A virtual key's own limits: requests per minute, tokens per minute and requests in flight. Unlike a
/// deployment's limits, which queue a request until there is room, a key's limit refuses at once with 429
/// <c>rate_limited</c> and a <c>Retry-After</c>: the caller is over its share, and holding its requests would
/// only tie up the gateway. The rpm and tpm buckets live in the <see cref="IRateLimitStore"/> (shared by every
/// gateway instance when it is Redis), refilling continuously; requests in flight are counted in this process.
/// </summary>
public sealed class KeyLimiter
{
    private readonly ConcurrentDictionary<string, KeyState> _states = new(StringComparer.Ordinal);
    private readonly IRateLimitStore _store;

    /// <summary>Key limits on <paramref name="time"/>, with buckets in <paramref name="store"/> (this process's memory when null).</summary>
    public KeyLimiter(TimeProvider time, IRateLimitStore? store = null)
    {
        _store = store ?? new InMemoryRateLimitStore(time);
    }

    /// <summary>
    /// Admits one request of <paramref name="key"/> whose prompt is about <paramref name="promptTokens"/> tokens,
    /// or throws 429 <c>rate_limited</c>. The lease frees the request's slot when disposed; its tokens are
    /// corrected with the reported usage by <see cref="KeyLease.Complete"/>.
    /// </summary>
    public async ValueTask<KeyLease> AdmitAsync(VirtualKey key, int promptTokens, CancellationToken cancellationToken = default)
    {
        if (key.Rpm is null && key.Tpm is null && key.MaxParallel is null)
        {
            return KeyLease.None;
        }
        var state = _states.GetOrAdd(key.Id, _ => new KeyState());
        lock (state)
        {
            if (key.MaxParallel is { } maxParallel && state.InFlight >= maxParallel)
            {
                throw Refused(key, $"{state.InFlight} request(s) in flight, its max_parallel of {maxParallel}", TimeSpan.FromSeconds(1));
            }
            state.InFlight++;
        }
        var charged = Math.Max(1, promptTokens);
        var limits = Limits(key);
        if (limits.HasBuckets)
        {
            RateLimitDecision decision;
            try
            {
                decision = await _store.TryTakeAsync(state.BucketOf(key), limits, charged, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Free(state);
                throw;
            }
            if (!decision.Granted)
            {
                Free(state);
                throw Refused(key, decision.Reason == RateLimitRefusal.Tokens ? $"its tpm of {key.Tpm}" : $"its rpm of {key.Rpm}", decision.RetryAfter);
            }
        }
        return new KeyLease(this, key, state, charged);
    }

    internal void Release(VirtualKey key, KeyState state, int charged, int? actualTokens)
    {
        Free(state);
        if (actualTokens is { } actual && key.Tpm is not null && actual != charged)
        {
            // The prompt was charged up front; the usage says what the request really took, completion included.
            StoreWrites.Forget(_store.ChargeAsync(state.BucketOf(key), Limits(key), 0, actual - charged));
        }
    }

    private static void Free(KeyState state)
    {
        lock (state)
        {
            state.InFlight--;
        }
    }

    private static RateLimitSettings Limits(VirtualKey key) => new(key.Rpm, key.Tpm, null, TimeSpan.Zero);

    /// <summary>A key's buckets are named by its limits too: changing a limit starts a full bucket of the new size.</summary>
    internal static string Bucket(VirtualKey key) => $"key:{key.Id}:{key.Rpm}:{key.Tpm}";

    private static BatonException Refused(VirtualKey key, string limit, TimeSpan retryAfter) =>
        new(429, ErrorTypes.RateLimit, $"Rate limit of key '{key.Name ?? key.Id}' reached: {limit}. Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.",
            code: "rate_limited")
        {
            RetryAfter = retryAfter,
        };

    internal sealed class KeyState
    {
        private BucketName? _bucket;

        public int InFlight { get; set; }

        /// <summary>The name of the key's buckets, made once per set of limits rather than once per request.</summary>
        public string BucketOf(VirtualKey key)
        {
            var bucket = Volatile.Read(ref _bucket);
            if (bucket is null || bucket.Rpm != key.Rpm || bucket.Tpm != key.Tpm)
            {
                // Limits changed (or first use): a new name, so a new full bucket of the new size.
                bucket = new BucketName(key.Rpm, key.Tpm, Bucket(key));
                Volatile.Write(ref _bucket, bucket);
            }
            return bucket.Name;
        }

        private sealed record BucketName(int? Rpm, int? Tpm, string Name);
    }
}

/// <summary>One admitted request's hold on its key's limits.</summary>
public sealed class KeyLease : IDisposable
{
    private readonly KeyLimiter? _limiter;
    private readonly VirtualKey? _key;
    private readonly KeyLimiter.KeyState? _state;
    private readonly int _charged;
    private int? _actual;
    private int _released;

    internal KeyLease(KeyLimiter? limiter, VirtualKey? key, KeyLimiter.KeyState? state, int charged)
    {
        _limiter = limiter;
        _key = key;
        _state = state;
        _charged = charged;
    }

    /// <summary>No key limit applies.</summary>
    public static KeyLease None { get; } = new(null, null, null, 0);

    /// <summary>Records the tokens the request really used, charged to the key's tpm when the lease ends.</summary>
    public void Complete(int totalTokens) => _actual = totalTokens;

    public void Dispose()
    {
        if (_limiter is not null && Interlocked.Exchange(ref _released, 1) == 0)
        {
            _limiter.Release(_key!, _state!, _charged, _actual);
        }
    }
}
