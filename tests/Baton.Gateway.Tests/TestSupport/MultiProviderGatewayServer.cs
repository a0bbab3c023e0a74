using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.TestSupport;

/// <summary>
/// A real gateway on 127.0.0.1 with one provider of each HTTP type, all pointed at one real HTTP simulator
/// that answers in each provider's own wire format, for the lifetime of a test class.
/// </summary>
/// <remarks>
/// For each provider <c>p-X</c> there is a model <c>X</c> and three failing ones: <c>X-429</c> (429 with
/// Retry-After 5), <c>X-401</c> and <c>X-503</c>, and <c>X-reasoning</c>, a model that reports reasoning tokens. Every provider has its own key, read from the environment.
/// </remarks>
public sealed class MultiProviderGatewayServer : IAsyncLifetime
{
    /// <summary>The model names, one per provider, as the tests' theory data.</summary>
    public static readonly TheoryData<string> Models = new(Providers.Select(p => p.Model));

    private static IEnumerable<(string Model, string Provider, string Type, string Path, string? ApiVersion)> Providers =>
    [
        ("openai", "p-openai", ProviderTypes.OpenAi, "/v1", null),
        ("github", "p-github", ProviderTypes.Azure, "/inference", null),
        ("azure", "p-azure", ProviderTypes.Azure, "/models", "2024-05-01-preview"),
        ("anthropic", "p-anthropic", ProviderTypes.Anthropic, "/v1", null),
        ("gemini", "p-gemini", ProviderTypes.Gemini, "/v1beta", null),
        ("ollama", "p-ollama", ProviderTypes.Ollama, "", null),
    ];

    private WebApplication? _simulator;
    private WebApplication? _gateway;

    public string BaseUrl { get; private set; } = "";

    public HttpClient Http { get; } = new();

    /// <summary>The key the gateway reads from the environment for a provider.</summary>
    public static string KeyOf(string provider) => $"sk-{provider}-secret-key-0123456789";

    /// <summary>The provider that serves a model.</summary>
    public static string ProviderOf(string model) => "p-" + model;

    public async Task InitializeAsync()
    {
        _simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0", new SimulatorBehavior());
        await _simulator.StartAsync();
        var simulatorUrl = GatewayServer.AddressOf(_simulator);

        _gateway = BatonHosts.BuildGateway(CreateOptions(simulatorUrl), "http://127.0.0.1:0", LogLevel.Warning,
            name => name.StartsWith("KEY_", StringComparison.Ordinal) ? KeyOf(name[4..].ToLowerInvariant().Replace('_', '-')) : null);
        await _gateway.StartAsync();
        BaseUrl = GatewayServer.AddressOf(_gateway);
        Http.BaseAddress = new Uri(BaseUrl);
    }

    private static BatonOptions CreateOptions(string simulatorUrl)
    {
        var options = new BatonOptions();
        foreach (var (model, provider, type, path, apiVersion) in Providers)
        {
            options.Providers[provider] = new ProviderOptions
            {
                Type = type,
                BaseUrl = simulatorUrl + path,
                ApiKeyEnv = "KEY_" + provider.ToUpperInvariant().Replace('-', '_'),
                ApiVersion = apiVersion,
            };
            Add(options, model, provider, "baton-sim-1");
            Add(options, model + "-429", provider, "baton-sim-1@429:5");
            Add(options, model + "-401", provider, "baton-sim-1@401");
            Add(options, model + "-503", provider, "baton-sim-1@503");
            Add(options, model + "-reasoning", provider, "baton-sim-reasoning");
        }
        // Each failing deployment is asked once, and breakers never open between tests that share them.
        options.Resilience = new ResilienceOptions { MaxRetries = 0, CircuitBreaker = new CircuitBreakerOptions { MinimumThroughput = 100_000 } };
        return options;
    }

    private static void Add(BatonOptions options, string name, string provider, string model) =>
        options.Models[name] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = provider, Model = model }] };

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await GatewayServer.StopAsync(_gateway, _simulator);
    }
}
