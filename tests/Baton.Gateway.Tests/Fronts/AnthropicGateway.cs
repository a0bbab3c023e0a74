using System.Collections.Concurrent;
using Anthropic;
using Baton.Configuration;
using Baton.Gateway.Simulation;
using Baton.Gateway.Tests.Auth;
using Baton.Gateway.Tests.TestSupport;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Fronts;

/// <summary>
/// A real gateway with keys, a ledger and prices, in front of a real HTTP simulator that records every request it
/// receives. Models: <c>claude</c> (an Anthropic deployment: pass-through), <c>gpt</c> (an OpenAI deployment:
/// translation), <c>claude-thinking</c> (an Anthropic deployment that thinks), <c>claude-cut</c> (an Anthropic stream cut after 3 deltas, nothing to resume on) and
/// <c>claude-resume</c> (the same cut, resumed on the OpenAI deployment).
/// </summary>
public sealed class AnthropicGateway : IAsyncLifetime
{
    private WebApplication? _simulator;

    public AuthGateway Gateway { get; private set; } = null!;

    /// <summary>What the simulator received: path, the headers that matter here, and the body.</summary>
    public ConcurrentQueue<(string Path, Dictionary<string, string> Headers, string Body)> Received { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _simulator = builder.Build();
        _simulator.Use(async (http, next) =>
        {
            http.Request.EnableBuffering();
            using var reader = new StreamReader(http.Request.Body, leaveOpen: true);
            var body = await reader.ReadToEndAsync();
            http.Request.Body.Position = 0;
            var headers = new[] { "x-api-key", "authorization", "anthropic-version", "anthropic-beta" }
                .Where(h => http.Request.Headers.ContainsKey(h))
                .ToDictionary(h => h, h => http.Request.Headers[h].ToString());
            Received.Enqueue((http.Request.Path.Value ?? "", headers, body));
            await next(http);
        });
        _simulator.MapBatonSimulator(new SimulatorBehavior());
        await _simulator.StartAsync();
        var simulatorUrl = GatewayServer.AddressOf(_simulator);

        Gateway = await AuthGateway.StartAsync(configure: options =>
        {
            options.Providers["p-anthropic"] = new ProviderOptions { Type = ProviderTypes.Anthropic, BaseUrl = simulatorUrl + "/v1", ApiKeyEnv = "SIM_KEY" };
            options.Providers["p-openai"] = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = simulatorUrl + "/v1", ApiKeyEnv = "SIM_KEY" };
            Add(options, "claude", ("p-anthropic", "baton-sim-1"));
            Add(options, "gpt", ("p-openai", "baton-sim-1"));
            Add(options, "claude-thinking", ("p-anthropic", "baton-sim-reasoning"));
            Add(options, "claude-cut", ("p-anthropic", "baton-sim-1@cut:3"));
            Add(options, "claude-resume", ("p-anthropic", "baton-sim-1@cut:3"), ("p-openai", "baton-sim-1"));
            options.Cache.Mode = "off";
        });
    }

    private static void Add(BatonOptions options, string name, params (string Provider, string Model)[] deployments) =>
        options.Models[name] = new ModelOptions { Deployments = [.. deployments.Select(d => new DeploymentOptions { Provider = d.Provider, Model = d.Model })] };

    /// <summary>The official Anthropic SDK pointed at the gateway, with a Baton key as its API key (or as a bearer token).</summary>
    public AnthropicClient Sdk(string? key = null, bool bearer = false) => bearer
        ? new AnthropicClient { BaseUrl = Gateway.BaseUrl, AuthToken = key ?? AuthGateway.MasterKey, ApiKey = null, MaxRetries = 0 }
        : new AnthropicClient { BaseUrl = Gateway.BaseUrl, ApiKey = key ?? AuthGateway.MasterKey, MaxRetries = 0 };

    /// <summary>The requests the simulator received on <paramref name="path"/> whose body contains <paramref name="marker"/>.</summary>
    public List<(string Path, Dictionary<string, string> Headers, string Body)> ReceivedWith(string path, string marker) =>
        [.. Received.Where(r => r.Path == path && r.Body.Contains(marker, StringComparison.Ordinal))];

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        if (_simulator is not null)
        {
            await _simulator.StopAsync();
            await _simulator.DisposeAsync();
        }
    }
}
