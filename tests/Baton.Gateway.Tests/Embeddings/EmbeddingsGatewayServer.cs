using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Embeddings;

/// <summary>
/// A real gateway on 127.0.0.1, with the response cache and a ledger in a temporary directory, in front of one real
/// HTTP simulator that answers embeddings in each provider's wire format. Each embeddings model is named after the
/// format its provider speaks; <c>chat</c> is a chat model, and <c>broken</c> an embeddings model whose only
/// deployment fails with a 503 and which falls back to <c>local</c> (the in-process simulator).
/// </summary>
public sealed class EmbeddingsGatewayServer : IAsyncLifetime
{
    /// <summary>The embeddings models, one per wire format, as the tests' theory data.</summary>
    public static readonly TheoryData<string> Formats = new(Providers.Select(p => p.Model).Append("local"));

    private static IEnumerable<(string Model, string Type, string Path, string? ApiVersion, string Upstream)> Providers =>
    [
        ("openai", ProviderTypes.OpenAi, "/v1", null, "text-embedding-3-small"),
        // An Azure OpenAI resource given by its root: the deployment is in the path.
        ("azure-openai", ProviderTypes.Azure, "", "2024-10-21", "my-embeddings-deployment"),
        ("azure-inference", ProviderTypes.Azure, "/models", "2024-05-01-preview", "text-embedding-3-small"),
        ("github", ProviderTypes.Azure, "/inference", null, "openai/text-embedding-3-small"),
        ("gemini", ProviderTypes.Gemini, "/v1beta", null, "gemini-embedding-001"),
        ("ollama", ProviderTypes.Ollama, "", null, "nomic-embed-text"),
    ];

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-embeddings-").FullName;
    private WebApplication? _simulator;
    private WebApplication? _gateway;

    public string BaseUrl { get; private set; } = "";

    public string SimulatorUrl { get; private set; } = "";

    public string LedgerPath => Path.Combine(_directory, "baton.db");

    public HttpClient Http { get; } = new();

    /// <summary>The key the gateway reads from the environment for each provider.</summary>
    public static string KeyOf(string model) => $"sk-{model}-embeddings-secret-0123456789";

    public async Task InitializeAsync()
    {
        _simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0", new SimulatorBehavior());
        await _simulator.StartAsync();
        SimulatorUrl = GatewayServer.AddressOf(_simulator);

        var options = new BatonOptions();
        foreach (var (model, type, path, apiVersion, upstream) in Providers)
        {
            options.Providers["p-" + model] = new ProviderOptions
            {
                Type = type,
                BaseUrl = SimulatorUrl + path,
                ApiKeyEnv = "KEY_" + model.ToUpperInvariant().Replace('-', '_'),
                ApiVersion = apiVersion,
            };
            Add(options, model, "p-" + model, upstream);
        }
        options.Providers["p-local"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        Add(options, "local", "p-local", "text-embedding-3-small");
        Add(options, "broken", "p-openai", "text-embedding-3-small@503");
        options.Models["broken"].Fallbacks = ["local"];
        options.Models["chat"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "p-openai", Model = "baton-sim-1" }] };
        options.Cache.Mode = CacheModes.On;
        options.Cache.Store = "memory";
        options.Ledger.Path = LedgerPath;
        options.Resilience = new ResilienceOptions { MaxRetries = 0, CircuitBreaker = new CircuitBreakerOptions { MinimumThroughput = 100_000 } };

        _gateway = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning,
            name => name.StartsWith("KEY_", StringComparison.Ordinal) ? KeyOf(name[4..].ToLowerInvariant().Replace('_', '-')) : null);
        await _gateway.StartAsync();
        BaseUrl = GatewayServer.AddressOf(_gateway);
        Http.BaseAddress = new Uri(BaseUrl);
    }

    private static void Add(BatonOptions options, string name, string provider, string model) =>
        options.Models[name] = new ModelOptions { Kind = ModelKinds.Embeddings, Deployments = [new DeploymentOptions { Provider = provider, Model = model }] };

    public long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={LedgerPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await GatewayServer.StopAsync(_gateway, _simulator);
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
