namespace Baton.RateLimiting;

/// <summary>
/// Where the request and token buckets of deployments live. The in-memory store limits one process; a
/// distributed store (Redis) will let many gateway instances enforce one limit exactly, by doing each
/// operation atomically on the shared state. Concurrency limits stay in the process that holds the calls.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>
    /// Atomically takes one request and <paramref name="tokens"/> tokens from the deployment's buckets, if
    /// both have them and the deployment is not paused; otherwise takes nothing and says how long to wait.
    /// </summary>
    RateLimitDecision TryTake(string deployment, RateLimitSettings limits, int tokens);

    /// <summary>Charges one more request and <paramref name="tokens"/> more tokens, even into debt (a retry, or usage above the estimate; negative tokens give back).</summary>
    void Charge(string deployment, RateLimitSettings limits, int requests, int tokens);

    /// <summary>Refuses the deployment until <paramref name="until"/> (the later of this and any pause already set).</summary>
    void PauseUntil(string deployment, RateLimitSettings limits, DateTimeOffset until);

    /// <summary>Lowers the buckets to what the upstream reports as remaining (never raises them).</summary>
    void LowerTo(string deployment, RateLimitSettings limits, int? requests, int? tokens);

    /// <summary>The budget left and when it is whole again; null when the deployment has no bucket.</summary>
    RateLimitSnapshot? Snapshot(string deployment, RateLimitSettings limits);
}

/// <summary>The answer of <see cref="IRateLimitStore.TryTake"/>: granted, or how long until it would be.</summary>
public readonly record struct RateLimitDecision(bool Granted, TimeSpan RetryAfter)
{
    public static RateLimitDecision Grant => new(true, TimeSpan.Zero);

    public static RateLimitDecision Wait(TimeSpan retryAfter) => new(false, retryAfter);
}

/// <summary>
/// A deployment's remaining budget (seed 004's <c>rate_limit_remaining</c> / <c>rate_limit_reset</c>): requests
/// and tokens left now, and when each bucket is whole again. A value is null when that limit is not set.
/// </summary>
public sealed record RateLimitSnapshot(int? RemainingRequests, int? RemainingTokens, DateTimeOffset? RequestsResetAt, DateTimeOffset? TokensResetAt);
