using Baton.Configuration;

namespace Baton.RateLimiting;

/// <summary>The rate limits in force for one deployment, resolved from its configuration.</summary>
public sealed record RateLimitSettings(int? RequestsPerMinute, int? TokensPerMinute, int? MaxConcurrency, TimeSpan MaxQueueWait)
{
    /// <summary>How long a request waits for capacity when nothing says otherwise.</summary>
    public static readonly TimeSpan DefaultMaxQueueWait = TimeSpan.FromSeconds(30);

    /// <summary>OpenRouter's limit for <c>:free</c> models (seed 000): 10 requests a minute.</summary>
    public const int OpenRouterFreeRequestsPerMinute = 10;

    /// <summary>No limit of Baton's own; upstream pauses still apply.</summary>
    public static readonly RateLimitSettings None = new(null, null, null, DefaultMaxQueueWait);

    /// <summary>True when a request or token bucket is configured (what response headers report).</summary>
    public bool HasBuckets => RequestsPerMinute is not null || TokensPerMinute is not null;

    /// <summary>
    /// Each key from the deployment, else its provider, else the default. A deployment of an OpenRouter
    /// <c>:free</c> model defaults to 10 requests a minute.
    /// </summary>
    public static RateLimitSettings Resolve(DeploymentOptions deployment, ProviderOptions provider)
    {
        var own = deployment.RateLimits;
        var shared = provider.RateLimits;
        var requests = own?.RequestsPerMinute ?? shared?.RequestsPerMinute ?? (IsOpenRouterFree(deployment, provider) ? OpenRouterFreeRequestsPerMinute : null);
        var wait = own?.MaxQueueWaitSeconds ?? shared?.MaxQueueWaitSeconds;
        return new RateLimitSettings(
            requests,
            own?.TokensPerMinute ?? shared?.TokensPerMinute,
            own?.MaxConcurrency ?? shared?.MaxConcurrency,
            wait is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultMaxQueueWait);
    }

    private static bool IsOpenRouterFree(DeploymentOptions deployment, ProviderOptions provider) =>
        deployment.Model?.EndsWith(":free", StringComparison.OrdinalIgnoreCase) == true &&
        Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var uri) &&
        (uri.Host.Equals("openrouter.ai", StringComparison.OrdinalIgnoreCase) || uri.Host.EndsWith(".openrouter.ai", StringComparison.OrdinalIgnoreCase));
}
