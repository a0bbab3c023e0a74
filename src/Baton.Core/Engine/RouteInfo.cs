namespace Baton.Engine;

/// <summary>
/// Who answered a request and how: the model the client named and the model that answered (another one
/// when a fallback was used), the provider and deployment, how many upstream attempts it took, and how
/// long the upstream took (the rest of the time is Baton's own).
/// </summary>
public sealed record RouteInfo(
    string Model,
    string Provider,
    string Deployment,
    string UpstreamModel,
    int Attempts,
    TimeSpan UpstreamTime)
{
    /// <summary>The model the client asked for.</summary>
    public string RequestedModel { get; init; } = Model;

    /// <summary>The task the request was routed by, if any.</summary>
    public string? Task { get; init; }

    /// <summary>The tier the task mapped to (seed 002's <c>model_tier</c>), if routed by task.</summary>
    public string? Tier { get; init; }

    /// <summary>True when a fallback model answered instead of the requested one.</summary>
    public bool FallbackUsed { get; init; }

    /// <summary>What the response cache did: <c>Hit</c> means no upstream was called.</summary>
    public Caching.CacheStatus Cache { get; init; } = Caching.CacheStatus.Bypass;

    /// <summary>True when a stream was cut and continued by another attempt.</summary>
    public bool StreamResumed { get; init; }

    /// <summary>The answering deployment's remaining budget; null when it has no request or token limit.</summary>
    public RateLimiting.RateLimitSnapshot? RateLimit { get; init; }
}
