namespace Baton.RateLimiting;

/// <summary>
/// Where the request and token buckets of deployments (and of virtual keys) live, and the headroom learned from
/// the upstream's rate-limit headers. The in-memory store limits one process; a shared store (Redis) lets many
/// gateway instances enforce one limit exactly, by doing each operation atomically on the shared state.
/// Operations are asynchronous and never called under a lock; an in-process store completes them synchronously,
/// so its <see cref="ValueTask"/>s cost no allocation.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>
    /// Atomically takes one request and <paramref name="tokens"/> tokens from the buckets named <paramref name="bucket"/>, if
    /// both have them and the bucket is not paused; otherwise takes nothing and says how long to wait.
    /// </summary>
    ValueTask<RateLimitDecision> TryTakeAsync(string bucket, RateLimitSettings limits, int tokens, CancellationToken cancellationToken = default);

    /// <summary>Charges <paramref name="requests"/> more requests and <paramref name="tokens"/> more tokens, even into debt (a retry, or usage above the estimate; negative tokens give back).</summary>
    ValueTask ChargeAsync(string bucket, RateLimitSettings limits, int requests, int tokens, CancellationToken cancellationToken = default);

    /// <summary>Refuses the bucket until <paramref name="until"/> (the later of this and any pause already set).</summary>
    ValueTask PauseUntilAsync(string bucket, RateLimitSettings limits, DateTimeOffset until, CancellationToken cancellationToken = default);

    /// <summary>Lowers the buckets to what the upstream reports as remaining (never raises them).</summary>
    ValueTask LowerToAsync(string bucket, RateLimitSettings limits, int? requests, int? tokens, CancellationToken cancellationToken = default);

    /// <summary>The budget left and when it is whole again; null when there is no request or token limit.</summary>
    ValueTask<RateLimitSnapshot?> SnapshotAsync(string bucket, RateLimitSettings limits, CancellationToken cancellationToken = default);
}

/// <summary>The answer of <see cref="IRateLimitStore.TryTakeAsync"/>: granted, or how long until it would be (and which limit refused).</summary>
public readonly record struct RateLimitDecision(bool Granted, TimeSpan RetryAfter, RateLimitRefusal Reason = RateLimitRefusal.None)
{
    /// <summary>Taken.</summary>
    public static RateLimitDecision Grant => new(true, TimeSpan.Zero);

    /// <summary>Refused: try again after <paramref name="retryAfter"/>.</summary>
    public static RateLimitDecision Wait(TimeSpan retryAfter, RateLimitRefusal reason = RateLimitRefusal.None) => new(false, retryAfter, reason);
}

/// <summary>Which limit refused a take: the one a caller is told about.</summary>
public enum RateLimitRefusal
{
    /// <summary>Granted, or the reason is not known.</summary>
    None,

    /// <summary>The upstream said it is out of budget: paused until its reset.</summary>
    Paused,

    /// <summary>The requests-per-minute bucket is empty.</summary>
    Requests,

    /// <summary>The tokens-per-minute bucket does not hold enough.</summary>
    Tokens,
}

/// <summary>
/// A deployment's remaining budget (seed 004's <c>rate_limit_remaining</c> / <c>rate_limit_reset</c>): requests
/// and tokens left now, and when each bucket is whole again. A value is null when that limit is not set.
/// </summary>
public sealed record RateLimitSnapshot(int? RemainingRequests, int? RemainingTokens, DateTimeOffset? RequestsResetAt, DateTimeOffset? TokensResetAt);
