using System.Diagnostics.CodeAnalysis;
using Baton.Configuration;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Resilience;

namespace Baton.Routing;

/// <summary>The configured models, looked up case-insensitively, each with its deployments.</summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelRoute> _models = new(StringComparer.OrdinalIgnoreCase);

    public ModelCatalog(BatonOptions options, ProviderFactory factory, TimeProvider time, IRateLimitStore? rateLimits = null)
        : this(options, (name, provider) => factory.Create(name, provider, options.Defaults), time, rateLimits)
    {
    }

    /// <summary>For tests: providers come from <paramref name="createProvider"/> instead of the factory.</summary>
    internal ModelCatalog(BatonOptions options, Func<string, ProviderOptions, IChatProvider> createProvider, TimeProvider time, IRateLimitStore? rateLimits = null)
    {
        rateLimits ??= new InMemoryRateLimitStore(time);
        var limiters = new Dictionary<string, DeploymentRateLimiter>(StringComparer.OrdinalIgnoreCase);
        var providers = new Dictionary<string, IChatProvider>(StringComparer.OrdinalIgnoreCase);
        // A deployment named by several models is one upstream: one breaker and one health record for all.
        var resilience = new Dictionary<string, DeploymentResilience>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, model) in options.Models)
        {
            var deployments = new List<Deployment>(model.Deployments.Count);
            foreach (var deployment in model.Deployments)
            {
                var providerName = deployment.Provider!;
                var providerOptions = options.Providers[providerName];
                if (!providers.TryGetValue(providerName, out var provider))
                {
                    provider = createProvider(providerName, providerOptions);
                    providers[providerName] = provider;
                }
                var id = provider.Name + "/" + deployment.Model;
                if (!resilience.TryGetValue(id, out var guard))
                {
                    var attemptTimeout = TimeSpan.FromSeconds(providerOptions.TimeoutSeconds ?? options.Defaults.TimeoutSeconds);
                    var settings = ResilienceSettings.Resolve(attemptTimeout, model.Resilience, providerOptions.Resilience, options.Resilience);
                    guard = new DeploymentResilience(settings, time);
                    resilience[id] = guard;
                }
                if (!limiters.TryGetValue(id, out var limiter))
                {
                    limiter = new DeploymentRateLimiter(id, RateLimitSettings.Resolve(deployment, providerOptions), rateLimits, time);
                    limiters[id] = limiter;
                }
                deployments.Add(new Deployment(provider, deployment.Model!, options.Defaults.With(deployment), guard, limiter)
                {
                    Weight = deployment.Weight ?? 1,
                    Price = deployment.Price,
                });
            }
            var modelSettings = ResilienceSettings.Resolve(TimeSpan.FromSeconds(options.Defaults.TimeoutSeconds), model.Resilience, options.Resilience);
            _models[name] = new ModelRoute(name, deployments, modelSettings)
            {
                Fallbacks = model.Fallbacks,
                ContextWindowFallback = model.ContextWindowFallback,
                Strategy = model.Strategy?.ToLowerInvariant() ?? RoutingStrategies.Ordered,
                CacheTtl = model.CacheTtlSeconds is double ttl ? TimeSpan.FromSeconds(ttl) : null,
            };
        }
        Providers = providers.Values.ToList();
        Deployments = _models.Values.SelectMany(m => m.Deployments).DistinctBy(d => d.Id).ToList();
    }

    public IReadOnlyCollection<ModelRoute> Models => _models.Values;

    public IReadOnlyList<IChatProvider> Providers { get; }

    /// <summary>Every distinct deployment, once each.</summary>
    public IReadOnlyList<Deployment> Deployments { get; }

    public bool TryResolve(string model, [NotNullWhen(true)] out ModelRoute? route) => _models.TryGetValue(model, out route);

    public ModelRoute Resolve(string model, string param = "model") => TryResolve(model, out var route)
        ? route
        : throw new BatonException(404, ErrorTypes.InvalidRequest,
            $"The model '{model}' does not exist. Configured models: {string.Join(", ", _models.Keys.Order(StringComparer.OrdinalIgnoreCase))}.",
            param, "model_not_found");
}
