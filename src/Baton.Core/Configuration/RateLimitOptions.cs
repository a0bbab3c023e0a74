namespace Baton.Configuration;

/// <summary>
/// The limits Baton keeps for a deployment, so that it smooths its callers instead of letting the upstream
/// refuse them. Set per provider (<c>providers.NAME.rateLimits</c>) and per deployment
/// (<c>models.NAME.deployments[i].rateLimits</c>); for a deployment, each key is taken from the deployment,
/// else its provider, else the default. See docs/configuration.md and docs/resilience.md.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests per minute, refilled continuously (a token bucket of this size). Default: none.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Tokens (prompt and completion) per minute, refilled continuously. Default: none.</summary>
    public int? TokensPerMinute { get; set; }

    /// <summary>Requests in flight at once, streams included until they end. Default: none.</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>
    /// The longest a request waits for capacity before Baton answers 429 with <c>Retry-After</c>. Default 30 s;
    /// 0 never waits.
    /// </summary>
    public double? MaxQueueWaitSeconds { get; set; }
}
