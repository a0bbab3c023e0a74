using System.Collections.Concurrent;
using Baton.Admission;
using Baton.Errors;
using Baton.RateLimiting;

namespace Baton.Auth;

/// <summary>
/// A virtual key's own limits: requests per minute, tokens per minute and requests in flight. Unlike a
/// deployment's limits, which queue a request until there is room, a key's limit refuses at once with 429
/// <c>rate_limited</c> and a <c>Retry-After</c>: the caller is over its share, and holding its requests would
/// only tie up the gateway. The rpm and tpm buckets live in the <see cref="IRateLimitStore"/> (shared by every
/// gateway instance when it is Redis), refilling continuously; requests in flight are counted in this process, and
/// also in the <see cref="IAdmissionStore"/> when there is one (leases shared by every gateway instance).
/// </summary>
public sealed class KeyLimiter
{
    private readonly ConcurrentDictionary<string, KeyState> _states = new(StringComparer.Ordinal);
    private readonly IRateLimitStore _store;
    private readonly IAdmissionStore? _shared;

    /// <summary>
    /// Key limits on <paramref name="time"/>, with buckets in <paramref name="store"/> (this process's memory when null),
    /// and admitted in one step by <paramref name="shared"/> when given (its leases count requests in flight across gateways).
    /// </summary>
    public KeyLimiter(TimeProvider time, IRateLimitStore? store = null, IAdmissionStore? shared = null)
    {
        _store = store ?? new InMemoryRateLimitStore(time);
        _shared = shared;
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
        if (_shared is not null && Take(key, promptTokens) is { } take)
        {
            var request = new AdmissionRequest { KeyId = key.Id, Key = take };
            if (await _shared.TryAdmitAsync(request, cancellationToken).ConfigureAwait(false) is { } result)
            {
                return result.Stage switch
                {
                    AdmissionStage.Admitted => Admitted(key, take, request.LeaseId),
                    AdmissionStage.Revoked => throw Revoked(),
                    _ => throw RefusedBy(key, result),
                };
            }
            // The shared state is unavailable (fail mode local): this process's own counts apply.
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
        var limits = state.LimitsOf(key);
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

    /// <summary>What an admission takes from <paramref name="key"/>'s limits; null when the key has none.</summary>
    internal BucketTake? Take(VirtualKey key, int promptTokens)
    {
        if (key.Rpm is null && key.Tpm is null && key.MaxParallel is null)
        {
            return null;
        }
        // The names are the key state's, made once per key rather than on every admission.
        var state = _states.GetOrAdd(key.Id, static _ => new KeyState());
        return new BucketTake(state.BucketOf(key), Limits(key), Math.Max(1, promptTokens), state.ConcurrencyOf(key), key.MaxParallel);
    }

    /// <summary>The lease of a request an <see cref="IAdmissionStore"/> admitted: its slot is counted here too, and its shared lease given back at the end.</summary>
    internal KeyLease Admitted(VirtualKey key, BucketTake take, string leaseId)
    {
        var state = _states.GetOrAdd(key.Id, _ => new KeyState());
        lock (state)
        {
            // The shared count includes this process's, so the shared grant implies room here.
            state.InFlight++;
        }
        return new KeyLease(this, key, state, take.Tokens, take.MaxConcurrency is null ? null : new ConcurrencyLease(take.Concurrency, leaseId));
    }

    /// <summary>The refusal of a key's limits an <see cref="IAdmissionStore"/> found full, worded as this process's own.</summary>
    internal static BatonException RefusedBy(VirtualKey key, AdmissionResult result) => result.Stage == AdmissionStage.KeyConcurrency
        ? Refused(key, $"{result.KeyInFlight} request(s) in flight, its max_parallel of {key.MaxParallel}", TimeSpan.FromSeconds(1))
        : Refused(key, result.Key.Reason == RateLimitRefusal.Tokens ? $"its tpm of {key.Tpm}" : $"its rpm of {key.Rpm}", result.Key.RetryAfter);

    /// <summary>A key revoked on another gateway, found by the admission: the same 401 as a key this gateway knows is revoked.</summary>
    internal static BatonException Revoked() =>
        new(401, ErrorTypes.Authentication, "Incorrect API key provided: it is unknown, expired or revoked.", code: "invalid_api_key");

    internal void Release(VirtualKey key, KeyState state, int charged, int? actualTokens, ConcurrencyLease? shared)
    {
        Free(state);
        if (shared is { } lease)
        {
            _shared?.Release(lease);
        }
        if (actualTokens is { } actual && key.Tpm is not null && actual != charged)
        {
            // The prompt was charged up front; the usage says what the request really took, completion included.
            StoreWrites.Forget(_store.ChargeAsync(state.BucketOf(key), state.LimitsOf(key), 0, actual - charged));
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
        private string? _concurrency;

        public int InFlight { get; set; }

        /// <summary>The name of the key's buckets, made once per set of limits rather than once per request.</summary>
        public string BucketOf(VirtualKey key) => Current(key).Name;

        /// <summary>The key's limits as the buckets take them, likewise made once per set of limits.</summary>
        public RateLimitSettings LimitsOf(VirtualKey key) => Current(key).Limits;

        private BucketName Current(VirtualKey key)
        {
            var bucket = Volatile.Read(ref _bucket);
            if (bucket is null || bucket.Rpm != key.Rpm || bucket.Tpm != key.Tpm)
            {
                // Limits changed (or first use): a new name, so a new full bucket of the new size.
                bucket = new BucketName(key.Rpm, key.Tpm, Bucket(key), Limits(key));
                Volatile.Write(ref _bucket, bucket);
            }
            return bucket;
        }

        /// <summary>The name of the key's shared calls-in-flight set, made once.</summary>
        public string ConcurrencyOf(VirtualKey key) => _concurrency ??= "key:" + key.Id;

        private sealed record BucketName(int? Rpm, int? Tpm, string Name, RateLimitSettings Limits);
    }
}

/// <summary>One admitted request's hold on its key's limits.</summary>
public sealed class KeyLease : IDisposable
{
    private readonly KeyLimiter? _limiter;
    private readonly VirtualKey? _key;
    private readonly KeyLimiter.KeyState? _state;
    private readonly int _charged;
    private readonly ConcurrencyLease? _shared;
    private int? _actual;
    private int _released;

    internal KeyLease(KeyLimiter? limiter, VirtualKey? key, KeyLimiter.KeyState? state, int charged, ConcurrencyLease? shared = null)
    {
        _shared = shared;
        _limiter = limiter;
        _key = key;
        _state = state;
        _charged = charged;
    }

    /// <summary>No key limit applies.</summary>
    public static KeyLease None { get; } = new(null, null, null, 0);

    /// <summary>Records the tokens the request really used, charged to the key's tpm when the lease ends.</summary>
    public void Complete(int totalTokens) => _actual = totalTokens;

    /// <summary>
    /// Gives back the request's slot (its max_parallel count, and its shared lease when there is one) and corrects the
    /// key's tpm with the tokens given to <see cref="Complete"/>. Idempotent; does nothing for <see cref="None"/>.
    /// </summary>
    public void Dispose()
    {
        if (_limiter is not null && Interlocked.Exchange(ref _released, 1) == 0)
        {
            _limiter.Release(_key!, _state!, _charged, _actual, _shared);
        }
    }
}
