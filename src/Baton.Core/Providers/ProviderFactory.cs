using Baton.Configuration;
using Baton.Providers.Anthropic;
using Baton.Providers.Azure;
using Baton.Providers.Gemini;
using Baton.Providers.Ollama;
using Baton.Providers.OpenAi;

namespace Baton.Providers;

/// <summary>Creates the provider for a configured provider entry, resolving its URL and key.</summary>
/// <param name="http">The invoker every HTTP provider sends through.</param>
/// <param name="time">The clock providers pace and time out with.</param>
/// <param name="redactor">Learns each provider key, so that no error or log repeats it.</param>
/// <param name="environment">Where keys named by <c>apiKeyEnv</c> are read.</param>
/// <param name="extraTypes">Provider types registered from other packages (the simulator, for instance); they win over built-in types of the same name.</param>
public sealed class ProviderFactory(
    HttpMessageInvoker http, TimeProvider time, SecretRedactor redactor, Func<string, string?> environment,
    IEnumerable<ChatProviderType>? extraTypes = null)
{
    private readonly Dictionary<string, ChatProviderType> _extraTypes = (extraTypes ?? [])
        .GroupBy(t => t.Name, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(g => g.Key, g => g.Last(), StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the provider <paramref name="name"/> described by <paramref name="options"/>.</summary>
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
        if (_extraTypes.TryGetValue(type, out var extra))
        {
            return extra.Create(context);
        }
        return type switch
        {
            ProviderTypes.OpenAi => new OpenAiCompatibleProvider(context),
            ProviderTypes.Azure => new AzureInferenceProvider(context),
            ProviderTypes.Anthropic => new AnthropicProvider(context),
            ProviderTypes.Gemini => new GeminiProvider(context),
            ProviderTypes.Ollama => new OllamaProvider(context),
            // The simulator lives in its own package, so that the engine's package stays free of it.
            ProviderTypes.Simulator => throw new BatonConfigurationException([
                $"providers.{name}.type: 'simulator' needs the Baton.Simulator package; register it with services.AddBatonSimulator()."]),
            _ => throw new BatonConfigurationException([$"providers.{name}.type: '{options.Type}' has no implementation."]),
        };
    }
}
