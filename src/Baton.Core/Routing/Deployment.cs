using Baton.Configuration;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Resilience;

namespace Baton.Routing;

/// <summary>One (provider, upstream model) pair serving a model, with the parameters in force for it.</summary>
public sealed class Deployment(IChatProvider provider, string upstreamModel, RequestDefaults parameters, DeploymentResilience resilience,
    DeploymentRateLimiter rateLimiter)
{

    /// <summary>The provider that calls the upstream.</summary>
    public IChatProvider Provider { get; } = provider;

    /// <summary>The model id the upstream is asked for.</summary>
    public string UpstreamModel { get; } = upstreamModel;

    /// <summary>The parameters added to a request that leaves them out: the deployment's own over <c>defaults</c>.</summary>
    public RequestDefaults Parameters { get; } = parameters;

    /// <summary>Retries, breaker and health of this deployment, shared by every model routing to it.</summary>
    public DeploymentResilience Resilience { get; } = resilience;

    /// <summary>A stable name for headers, logs and metrics: <c>provider/upstream-model</c>.</summary>
    public string Id { get; } = provider.Name + "/" + upstreamModel;

    /// <summary>The <c>weighted</c> strategy's share.</summary>
    public double Weight { get; init; } = 1;

    /// <summary>Price per million tokens, when configured.</summary>
    public PriceOptions? Price { get; init; }

    /// <summary>The provider's base URL, which tells the price catalog whose prices apply (OpenRouter's, DeepSeek's, ...).</summary>
    public string? BaseUrl { get; init; }


    /// <summary>Requests, tokens and calls in flight allowed to this deployment, and pauses learned from the upstream; shared like <see cref="Resilience"/>.</summary>
    public DeploymentRateLimiter RateLimiter { get; } = rateLimiter;
}

/// <summary>A model clients can name, its deployments in order of preference, and where to go when they all fail.</summary>
public sealed class ModelRoute(string name, IReadOnlyList<Deployment> deployments, ResilienceSettings settings)
{
    private int _nextStart;

    /// <summary>The name clients use, as configured.</summary>
    public string Name { get; } = name;

    /// <summary>The model's deployments on enabled providers, in configured order (the strategy chooses among them per request).</summary>
    public IReadOnlyList<Deployment> Deployments { get; } = deployments;

    /// <summary>The model's own settings: its total, first-chunk and idle timeouts bound a request for it.</summary>
    public ResilienceSettings Settings { get; } = settings;

    /// <summary>Models to ask next, in order, when every deployment has failed.</summary>
    public IReadOnlyList<string> Fallbacks { get; init; } = [];

    /// <summary>The larger-context model for prompts that do not fit this one.</summary>
    public string? ContextWindowFallback { get; init; }

    /// <summary>How long this model's answers stay in the cache, when it sets its own time.</summary>
    public TimeSpan? CacheTtl { get; init; }

    /// <summary>How deployments are ordered for each request; see <see cref="RoutingStrategies"/>.</summary>
    public string Strategy { get; init; } = RoutingStrategies.Ordered;

    /// <summary>What the model serves: one of <see cref="ModelKinds"/>.</summary>
    public string Kind { get; init; } = ModelKinds.Chat;

    /// <summary>For round-robin: where the next request starts.</summary>
    internal int NextStart() => (int)((uint)Interlocked.Increment(ref _nextStart) % (uint)Math.Max(1, Deployments.Count));
}
