using System.Diagnostics.CodeAnalysis;
using Baton.Configuration;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Routing;

/// <summary>The configured models, looked up case-insensitively, each with its deployments.</summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelRoute> _models = new(StringComparer.OrdinalIgnoreCase);

    public ModelCatalog(BatonOptions options, ProviderFactory factory)
    {
        var providers = new Dictionary<string, IChatProvider>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, model) in options.Models)
        {
            var deployments = new List<Deployment>(model.Deployments.Count);
            foreach (var deployment in model.Deployments)
            {
                var providerName = deployment.Provider!;
                if (!providers.TryGetValue(providerName, out var provider))
                {
                    provider = factory.Create(providerName, options.Providers[providerName], options.Defaults);
                    providers[providerName] = provider;
                }
                deployments.Add(new Deployment(provider, deployment.Model!, options.Defaults.With(deployment)));
            }
            _models[name] = new ModelRoute(name, deployments);
        }
        Providers = providers.Values.ToList();
    }

    public IReadOnlyCollection<ModelRoute> Models => _models.Values;

    public IReadOnlyList<IChatProvider> Providers { get; }

    public bool TryResolve(string model, [NotNullWhen(true)] out ModelRoute? route) => _models.TryGetValue(model, out route);

    public ModelRoute Resolve(string model) => TryResolve(model, out var route)
        ? route
        : throw new BatonException(404, ErrorTypes.InvalidRequest,
            $"The model '{model}' does not exist. Configured models: {string.Join(", ", _models.Keys.Order(StringComparer.OrdinalIgnoreCase))}.",
            "model", "model_not_found");
}
