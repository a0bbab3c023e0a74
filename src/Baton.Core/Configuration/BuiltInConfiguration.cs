namespace Baton.Configuration;

/// <summary>
/// What Baton runs on when it is given no configuration at all: the in-process simulator, so that
/// <c>baton serve</c> and <c>baton chat</c> work on a fresh machine without keys.
/// </summary>
public static class BuiltInConfiguration
{
    /// <summary>The model of the built-in configuration that <c>baton chat</c> and <c>baton serve</c> use when none is named.</summary>
    public const string DefaultModel = "baton-sim";

    /// <summary>
    /// The four free OpenRouter models the project-analysis pipeline runs on, by the model name its steps use.
    /// </summary>
    public static IReadOnlyDictionary<string, string> OpenRouterModels { get; } = new Dictionary<string, string>
    {
        ["scout"] = "meta-llama/llama-4-scout:free",
        ["mistral"] = "mistralai/mistral-small-3.1:free",
        ["r1"] = "deepseek/deepseek-r1:free",
        ["maverick"] = "meta-llama/llama-4-maverick:free",
    };

    /// <summary>
    /// A new configuration of simulated models only (<c>baton-sim</c>, a reasoning, a slow and an embeddings model, and
    /// the project-analysis pipeline's models under their OpenRouter names), marked <see cref="BatonOptions.IsBuiltInDefault"/>.
    /// Each call returns a fresh instance the caller may change.
    /// </summary>
    public static BatonOptions Create()
    {
        var options = new BatonOptions { IsBuiltInDefault = true };
        options.Providers["simulator"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Providers["simulator-slow"] = new ProviderOptions
        {
            Type = ProviderTypes.Simulator,
            Simulator = new Simulation.SimulatorBehavior { TimeToFirstTokenMs = 300, TokensPerSecond = 40 },
        };
        AddModel(options, DefaultModel, "simulator", "baton-sim-1");
        AddModel(options, "baton-sim-reasoning", "simulator", "baton-sim-reasoning-1");
        AddModel(options, "baton-sim-slow", "simulator-slow", "baton-sim-1");
        // Deterministic embeddings (POST /v1/embeddings), with the dimensions of the model they stand in for.
        AddModel(options, "baton-sim-embed", "simulator", "text-embedding-3-small");
        options.Models["baton-sim-embed"].Kind = ModelKinds.Embeddings;
        // Seed 000's four models, simulated under their OpenRouter names: the built-in project-analysis pipeline
        // (baton analyze) runs on them without a key.
        foreach (var (name, upstream) in OpenRouterModels)
        {
            AddModel(options, name, "simulator", upstream);
        }
        // Every built-in task routes somewhere, so task routing can be tried without configuration.
        foreach (var (tier, model) in new[]
        {
            ("orchestrator", "baton-sim-reasoning"), ("reasoning", "baton-sim-reasoning"),
            ("coding", DefaultModel), ("general", DefaultModel), ("fast", DefaultModel),
        })
        {
            options.Tiers[tier] = new TierOptions { Models = [model] };
        }
        // The simulated models cost what the small models they stand in for cost (per million tokens), so costs,
        // budgets and baton costs show realistic figures without a key.
        options.Prices["baton-sim-1"] = new PriceOptions { Input = 0.15m, CachedInput = 0.075m, Output = 0.60m };
        options.Prices["baton-sim-reasoning-1"] = new PriceOptions { Input = 1.10m, CachedInput = 0.275m, Output = 4.40m };
        options.Prices["text-embedding-3-small"] = new PriceOptions { Input = 0.02m, Output = 0m };
        // The second identical question is answered from memory, and says so (x-baton-cache: hit).
        options.Cache = new CacheOptions { Mode = CacheModes.On, Store = "memory" };
        return options;
    }

    private static void AddModel(BatonOptions options, string name, string provider, string upstream) =>
        options.Models[name] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = provider, Model = upstream }] };
}
