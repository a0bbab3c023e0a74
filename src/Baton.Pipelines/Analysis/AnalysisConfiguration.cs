using Baton.Configuration;

namespace Baton.Analysis;

/// <summary>
/// The models <c>baton analyze</c> runs on when it is given no configuration: seed 000's four OpenRouter free
/// models when <c>OPENROUTER_API_KEY</c> is set, otherwise the same four names on the built-in simulator.
/// </summary>
public static class AnalysisConfiguration
{
    public const string OpenRouterKeyVariable = "OPENROUTER_API_KEY";

    /// <summary>The configuration, and whether it is OpenRouter's (whose free-tier pace the caller should keep).</summary>
    public static (BatonOptions Options, bool OpenRouter) Create(Func<string, string?> environment)
    {
        if (string.IsNullOrWhiteSpace(environment(OpenRouterKeyVariable)))
        {
            return (BuiltInConfiguration.Create(), false);
        }
        var options = new BatonOptions();
        options.Providers["openrouter"] = new ProviderOptions
        {
            Type = ProviderTypes.OpenAi,
            BaseUrl = "https://openrouter.ai/api/v1",
            ApiKeyEnv = OpenRouterKeyVariable,
            Headers = new(StringComparer.OrdinalIgnoreCase) { ["X-Title"] = "Baton" },
            // Free models can be slow to start; each answer is a few hundred tokens of JSON.
            TimeoutSeconds = 120,
        };
        foreach (var (name, upstream) in ProjectAnalysisPipeline.OpenRouterModels)
        {
            options.Models[name] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "openrouter", Model = upstream }] };
        }
        return (options, true);
    }
}
