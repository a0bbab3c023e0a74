using System.Diagnostics.CodeAnalysis;
using Baton.Configuration;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Resilience;

namespace Baton.Routing;

/// <summary>
/// The configured models, looked up case-insensitively, each with its deployments. It can also pin a
/// request to one provider and upstream model (seed 001's batch items name both), configured or not.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelRoute> _models = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, IChatProvider> _providers = new(StringComparer.OrdinalIgnoreCase);
    // A deployment named by several models is one upstream: one breaker, one health record and one set of
    // rate limits for all.
    private readonly Dictionary<string, DeploymentResilience> _resilience = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, DeploymentRateLimiter> _limiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ModelRoute> _pinned = new(StringComparer.OrdinalIgnoreCase);
    // Models whose every deployment is on a disabled provider, with those providers.
    private readonly Dictionary<string, IReadOnlyList<string>> _disabled = new(StringComparer.OrdinalIgnoreCase);
    private readonly BatonOptions _options;
    private readonly Func<string, ProviderOptions, IChatProvider> _createProvider;
    private readonly TimeProvider _time;
    private readonly IRateLimitStore _rateLimits;
    private readonly IBreakerStateStore _breakers;
    private readonly Admission.IAdmissionStore? _admission;

    /// <summary>
    /// The catalog of <paramref name="options"/>: its deployments' limits live in <paramref name="rateLimits"/>, their
    /// breakers are shared through <paramref name="breakers"/>, and their calls in flight through <paramref name="admission"/> when given.
    /// </summary>
    public ModelCatalog(BatonOptions options, ProviderFactory factory, TimeProvider time, IRateLimitStore? rateLimits = null, IBreakerStateStore? breakers = null,
        Admission.IAdmissionStore? admission = null)
        : this(options, (name, provider) => factory.Create(name, provider, options.Defaults), time, rateLimits, breakers, admission)
    {
    }

    /// <summary>For tests: providers come from <paramref name="createProvider"/> instead of the factory.</summary>
    internal ModelCatalog(BatonOptions options, Func<string, ProviderOptions, IChatProvider> createProvider, TimeProvider time, IRateLimitStore? rateLimits = null,
        IBreakerStateStore? breakers = null, Admission.IAdmissionStore? admission = null)
    {
        _options = options;
        _admission = admission;
        _createProvider = createProvider;
        _time = time;
        _rateLimits = rateLimits ?? new InMemoryRateLimitStore(time);
        _breakers = breakers ?? new InMemoryBreakerStateStore(time);
        foreach (var (name, model) in options.Models)
        {
            var enabled = model.Deployments.Where(d => IsEnabled(d.Provider!)).ToList();
            if (enabled.Count == 0 && model.Deployments.Count > 0)
            {
                _disabled[name] = model.Deployments.Select(d => d.Provider!).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                continue;
            }
            var deployments = enabled.Select(d => CreateDeployment(d, model.Resilience)).ToList();
            var modelSettings = ResilienceSettings.Resolve(TimeSpan.FromSeconds(options.Defaults.TimeoutSeconds), model.Resilience, options.Resilience);
            _models[name] = new ModelRoute(name, deployments, modelSettings)
            {
                Fallbacks = model.Fallbacks,
                ContextWindowFallback = model.ContextWindowFallback,
                Strategy = model.Strategy?.ToLowerInvariant() ?? RoutingStrategies.Ordered,
                CacheTtl = model.CacheTtlSeconds is double ttl ? TimeSpan.FromSeconds(ttl) : null,
                Kind = ModelKinds.Of(model.Kind),
            };
        }
        Providers = _providers.Values.ToList();
        Deployments = _models.Values.SelectMany(m => m.Deployments).DistinctBy(d => d.Id).ToList();
    }

    /// <summary>Every model clients may name, except those whose providers are all disabled.</summary>
    public IReadOnlyCollection<ModelRoute> Models => _models.Values;

    /// <summary>Every provider an enabled deployment uses, one instance each, shared by its deployments.</summary>
    public IReadOnlyList<IChatProvider> Providers { get; }

    /// <summary>Every distinct configured deployment, once each.</summary>
    public IReadOnlyList<Deployment> Deployments { get; }

    /// <summary>Finds the model named <paramref name="model"/> (case-insensitively); false when no enabled model has that name.</summary>
    public bool TryResolve(string model, [NotNullWhen(true)] out ModelRoute? route) => _models.TryGetValue(model, out route);

    /// <summary>True when every deployment of <paramref name="model"/> is on a disabled provider (<c>providers.NAME.enabled: false</c>).</summary>
    public bool IsDisabled(string model) => _disabled.ContainsKey(model);

    /// <summary>The model named <paramref name="model"/> (case-insensitively).</summary>
    /// <param name="model">The name the client gave.</param>
    /// <param name="param">The request parameter that named it, for the error.</param>
    /// <exception cref="BatonException">404 <c>model_not_found</c> listing the configured models, or <c>provider_disabled</c> when its providers are all disabled.</exception>
    public ModelRoute Resolve(string model, string param = "model") => TryResolve(model, out var route)
        ? route
        : _disabled.TryGetValue(model, out var providers)
        ? throw new BatonException(404, ErrorTypes.InvalidRequest,
            $"The model '{model}' is not available: its {(providers.Count == 1 ? "provider" : "providers")} " +
            $"{string.Join(", ", providers.Select(p => $"'{p}'"))} {(providers.Count == 1 ? "is" : "are")} disabled " +
            $"({string.Join(", ", providers.Select(p => $"providers.{p}.enabled"))} is false in the configuration).",
            param, "provider_disabled")
        : throw new BatonException(404, ErrorTypes.InvalidRequest,
            $"The model '{model}' does not exist. Configured models: {string.Join(", ", _models.Keys.Order(StringComparer.OrdinalIgnoreCase))}.",
            param, "model_not_found");

    /// <summary>True when a provider named <paramref name="provider"/> is configured, enabled or not.</summary>
    public bool HasProvider(string provider) => _options.Providers.ContainsKey(provider);

    private bool IsEnabled(string provider) => !_options.Providers.TryGetValue(provider, out var options) || options.Enabled;

    /// <summary>
    /// A route that only asks <paramref name="provider"/>: a configured model of that name restricted to its
    /// deployments on that provider; else the configured deployment whose upstream model is
    /// <paramref name="model"/>; else a deployment made for it on that provider, with the provider's
    /// settings. Null when the provider is not configured.
    /// </summary>
    public ModelRoute? ResolvePinned(string provider, string model)
    {
        if (!_options.Providers.ContainsKey(provider))
        {
            return null;
        }
        if (!IsEnabled(provider))
        {
            throw new BatonException(404, ErrorTypes.InvalidRequest,
                $"The provider '{provider}' is disabled (providers.{provider}.enabled is false in the configuration).", "provider", "provider_disabled");
        }
        lock (_pinned)
        {
            var key = provider + "\n" + model;
            if (_pinned.TryGetValue(key, out var known))
            {
                return known;
            }
            var route = PinnedFromConfiguration(provider, model) ?? new ModelRoute(
                provider + "/" + model,
                [CreateDeployment(new DeploymentOptions { Provider = _options.Providers.Keys.First(p => p.Equals(provider, StringComparison.OrdinalIgnoreCase)), Model = model }, null)],
                ResilienceSettings.Resolve(TimeSpan.FromSeconds(_options.Defaults.TimeoutSeconds), _options.Resilience));
            _pinned[key] = route;
            return route;
        }
    }

    private ModelRoute? PinnedFromConfiguration(string provider, string model)
    {
        bool OnProvider(Deployment d) => d.Provider.Name.Equals(provider, StringComparison.OrdinalIgnoreCase);
        if (_models.TryGetValue(model, out var named) && named.Deployments.Where(OnProvider).ToList() is { Count: > 0 } mine)
        {
            return Restricted(named, mine);
        }
        foreach (var route in _models.Values)
        {
            if (route.Deployments.FirstOrDefault(d => OnProvider(d) && d.UpstreamModel.Equals(model, StringComparison.OrdinalIgnoreCase)) is { } deployment)
            {
                return Restricted(route, [deployment]);
            }
        }
        return null;
    }

    private static ModelRoute Restricted(ModelRoute route, IReadOnlyList<Deployment> deployments) =>
        new(route.Name, deployments, route.Settings) { CacheTtl = route.CacheTtl, Strategy = route.Strategy, Kind = route.Kind };

    private Deployment CreateDeployment(DeploymentOptions deployment, ResilienceOptions? modelResilience)
    {
        var providerName = deployment.Provider!;
        var providerOptions = _options.Providers[providerName];
        if (!_providers.TryGetValue(providerName, out var provider))
        {
            provider = _createProvider(providerName, providerOptions);
            _providers[providerName] = provider;
        }
        var id = provider.Name + "/" + deployment.Model;
        if (!_resilience.TryGetValue(id, out var guard))
        {
            var attemptTimeout = TimeSpan.FromSeconds(providerOptions.TimeoutSeconds ?? _options.Defaults.TimeoutSeconds);
            guard = new DeploymentResilience(ResilienceSettings.Resolve(attemptTimeout, modelResilience, providerOptions.Resilience, _options.Resilience), _time,
                id, _breakers);
            _resilience[id] = guard;
        }
        if (!_limiters.TryGetValue(id, out var limiter))
        {
            limiter = new DeploymentRateLimiter(id, RateLimitSettings.Resolve(deployment, providerOptions), _rateLimits, _time) { Admission = _admission };
            _limiters[id] = limiter;
        }
        return new Deployment(provider, deployment.Model!, _options.Defaults.With(deployment), guard, limiter)
        {
            Weight = deployment.Weight ?? 1,
            Price = deployment.Price,
            BaseUrl = providerOptions.BaseUrl ?? ProviderTypes.DefaultBaseUrl(providerOptions.Type ?? ""),
        };
    }
}
