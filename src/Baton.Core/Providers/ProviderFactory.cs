using Baton.Configuration;
using Baton.Providers.Anthropic;
using Baton.Providers.Azure;
using Baton.Providers.Gemini;
using Baton.Providers.Ollama;
using Baton.Providers.OpenAi;
using Baton.Simulation;

namespace Baton.Providers;

/// <summary>Creates the provider for a configured provider entry, resolving its URL and key.</summary>
public sealed class ProviderFactory(HttpMessageInvoker http, TimeProvider time, SecretRedactor redactor, Func<string, string?> environment)
{
    public IChatProvider Create(string name, ProviderOptions options, RequestDefaults defaults)
    {
        var type = options.Type!.ToLowerInvariant();
        var apiKey = options.ApiKeyEnv is { Length: > 0 } variable ? environment(variable) : null;
        redactor.Add(apiKey);
        var context = new ProviderContext
        {
            Name = name,
            Options = options,
            BaseUrl = ProviderTypes.ResolveBaseUrl(type, options.BaseUrl),
            ApiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey,
            Http = http,
            Time = time,
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds ?? defaults.TimeoutSeconds),
            Redactor = redactor,
        };
        return type switch
        {
            ProviderTypes.OpenAi => new OpenAiCompatibleProvider(context),
            ProviderTypes.Azure => new AzureInferenceProvider(context),
            ProviderTypes.Anthropic => new AnthropicProvider(context),
            ProviderTypes.Gemini => new GeminiProvider(context),
            ProviderTypes.Ollama => new OllamaProvider(context),
            ProviderTypes.Simulator => new SimulatorProvider(context),
            _ => throw new BatonConfigurationException([$"providers.{name}.type: '{options.Type}' has no implementation."]),
        };
    }
}
