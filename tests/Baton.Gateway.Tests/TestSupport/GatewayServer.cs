using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.TestSupport;

/// <summary>
/// A real gateway on 127.0.0.1 in front of a real HTTP simulator (OpenAI wire format) and the in-process
/// simulator, for the lifetime of a test class.
/// </summary>
public sealed class GatewayServer : IAsyncLifetime
{
    public const string Key = "sk-gateway-test-secret-42";

    private WebApplication? _simulator;
    private WebApplication? _gateway;

    public string SimulatorUrl { get; private set; } = "";

    public string BaseUrl { get; private set; } = "";

    public HttpClient Http { get; } = new();

    public async Task InitializeAsync()
    {
        _simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0", new SimulatorBehavior());
        await _simulator.StartAsync();
        SimulatorUrl = AddressOf(_simulator);

        _gateway = BatonHosts.BuildGateway(CreateOptions(SimulatorUrl), "http://127.0.0.1:0", LogLevel.Warning,
            name => name == "SIM_KEY" ? Key : null);
        await _gateway.StartAsync();
        BaseUrl = AddressOf(_gateway);
        Http.BaseAddress = new Uri(BaseUrl);
    }

    public static BatonOptions CreateOptions(string simulatorUrl)
    {
        var options = new BatonOptions();
        options.Providers["sim-http"] = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = simulatorUrl + "/v1", ApiKeyEnv = "SIM_KEY" };
        options.Providers["sim-local"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Providers["sim-slow"] = new ProviderOptions
        {
            Type = ProviderTypes.Simulator,
            Simulator = new SimulatorBehavior { TokensPerSecond = 20 },
        };
        Add(options, "gpt-sim", "sim-http", "baton-sim-1");
        Add(options, "local-sim", "sim-local", "baton-sim-1");
        Add(options, "slow-sim", "sim-slow", "baton-sim-1");
        Add(options, "limited-sim", "sim-http", "baton-sim-1@429:5");
        Add(options, "broken-sim", "sim-http", "baton-sim-1@503");
        Add(options, "cut-sim", "sim-http", "baton-sim-1@cut:3");
        options.Models["failover-sim"] = new ModelOptions
        {
            Deployments =
            [
                new DeploymentOptions { Provider = "sim-http", Model = "baton-sim-1@503" },
                new DeploymentOptions { Provider = "sim-local", Model = "baton-sim-1" },
            ],
        };
        options.Models["fallback-sim"] = new ModelOptions
        {
            Deployments = [new DeploymentOptions { Provider = "sim-http", Model = "baton-sim-2@503" }],
            Fallbacks = ["local-sim"],
        };
        options.Models["resume-sim"] = new ModelOptions
        {
            Deployments =
            [
                new DeploymentOptions { Provider = "sim-http", Model = "baton-sim-1@cut:3" },
                new DeploymentOptions { Provider = "sim-local", Model = "baton-sim-1" },
            ],
        };
        options.Tiers["coding"] = new TierOptions { Models = ["gpt-sim"] };
        options.Tiers["general"] = new TierOptions { Models = ["local-sim"] };
        options.Gateway.MaxRequestBodyBytes = 64 * 1024;
        // Retry timing and breakers are tested on a fake clock in the core tests; over real HTTP, each failing
        // deployment is asked once, and the breakers never open between tests that share them.
        options.Resilience = new ResilienceOptions { MaxRetries = 0, CircuitBreaker = new CircuitBreakerOptions { MinimumThroughput = 100_000 } };
        return options;
    }

    private static void Add(BatonOptions options, string name, string provider, string model) =>
        options.Models[name] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = provider, Model = model }] };

    public static string AddressOf(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Stops and disposes of each app a fixture started, in order; one it never got to build is skipped.</summary>
    public static async Task StopAsync(params WebApplication?[] apps)
    {
        foreach (var app in apps)
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await StopAsync(_gateway, _simulator);
    }
}
