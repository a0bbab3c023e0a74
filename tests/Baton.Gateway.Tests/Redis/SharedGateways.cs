using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Simulation;
using Baton.Gateway.Tests.TestSupport;
using Baton.Redis;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// Three real gateways on 127.0.0.1 sharing one Redis (under a prefix of their own), in front of one real HTTP
/// simulator that counts the calls it receives per upstream model. Each gateway has its own working files
/// (ledger, budgets), except the key store, which they share as a deployment would (one SQLite file here).
/// </summary>
public sealed class SharedGateways : IAsyncDisposable
{
    public const string MasterKeyVariable = "BATON_REDIS_TEST_MASTER_KEY";
    public const string MasterKey = "mk-redis-test-master-secret-0123456789";

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-shared-").FullName;
    private readonly List<WebApplication> _apps = [];
    private WebApplication? _simulator;

    /// <summary>Calls the simulator received, by upstream model (with its fault suffix).</summary>
    public ConcurrentDictionary<string, int> UpstreamCalls { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, every chat call the simulator receives waits for it to complete (a paced upstream).</summary>
    public Func<Task>? UpstreamGate { get; set; }

    /// <summary>Chat calls the simulator is answering now, and the most it answered at once.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    private int _inFlight;
    private int _maxInFlight;

    public List<HttpClient> Clients { get; } = [];

    public List<IServiceProvider> Services { get; } = [];

    public static async Task<SharedGateways> StartAsync(RedisServer redis, Action<BatonOptions>? configure = null, int count = 3)
    {
        var shared = new SharedGateways();
        await shared.StartSimulatorAsync();
        var prefix = "it-" + Guid.NewGuid().ToString("N")[..8] + ":";
        for (var i = 0; i < count; i++)
        {
            var options = GatewayServer.CreateOptions(GatewayServer.AddressOf(shared._simulator!));
            // The shared machine may be slow: a generous timeout keeps these tests about sharing, not about falling back
            // (RedisFailModeTests stop Redis outright, which the client sees at once).
            options.Redis = new RedisOptions { Connection = redis.Connection, Prefix = prefix, TimeoutMs = 10_000 };
            var own = Path.Combine(shared._directory, "gateway" + i);
            Directory.CreateDirectory(own);
            options.Ledger.Path = Path.Combine(own, "baton.db");
            options.Auth.Path = Path.Combine(shared._directory, "keys.db");
            options.Prices["baton-sim-1"] = new PriceOptions { Input = 1m, Output = 2m };
            configure?.Invoke(options);
            var app = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, name => name switch
            {
                "SIM_KEY" => GatewayServer.Key,
                MasterKeyVariable => MasterKey,
                _ => null,
            });
            await app.StartAsync();
            shared._apps.Add(app);
            shared.Services.Add(app.Services);
            shared.Clients.Add(new HttpClient { BaseAddress = new Uri(GatewayServer.AddressOf(app)) });
        }
        return shared;
    }

    /// <summary>The simulator's wire format, behind a middleware that counts each chat call by the model it names.</summary>
    private async Task StartSimulatorAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _simulator = builder.Build();
        _simulator.Use(async (context, next) =>
        {
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Value?.EndsWith("/chat/completions", StringComparison.Ordinal) == true)
            {
                context.Request.EnableBuffering();
                using var body = await JsonDocument.ParseAsync(context.Request.Body);
                context.Request.Body.Position = 0;
                var model = body.RootElement.GetProperty("model").GetString() ?? "";
                UpstreamCalls.AddOrUpdate(model, 1, (_, n) => n + 1);
                var now = Interlocked.Increment(ref _inFlight);
                int max;
                while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
                {
                }
                try
                {
                    if (UpstreamGate is { } gate)
                    {
                        await gate();
                    }
                    await next(context);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
                return;
            }
            await next(context);
        });
        _simulator.MapBatonSimulator(new SimulatorBehavior());
        await _simulator.StartAsync();
    }

    /// <summary>A provider of its own on the simulator: its deployments are not shared with the fixture's other models.</summary>
    public static string AddProvider(BatonOptions options, string name)
    {
        var http = options.Providers["sim-http"];
        options.Providers[name] = new ProviderOptions { Type = http.Type, BaseUrl = http.BaseUrl, ApiKeyEnv = http.ApiKeyEnv };
        return name;
    }

    public int CallsTo(string upstreamModel) => UpstreamCalls.TryGetValue(upstreamModel, out var n) ? n : 0;

    public RedisConnection Redis(int gateway) => Services[gateway].GetRequiredService<RedisConnection>();

    /// <summary>Creates a virtual key on gateway 0 with <paramref name="settings"/> (JSON fields of <c>POST /admin/keys</c>); returns its id and secret.</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(string settings)
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, "/admin/keys") { Content = Json(settings) };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", MasterKey);
        using var created = await Clients[0].SendAsync(create);
        created.EnsureSuccessStatusCode();
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        return (key.GetProperty("id").GetString()!, key.GetProperty("key").GetString()!);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string Chat(string model, string content = "hello", string extra = "") =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{content}}"}]{{extra}}}""";

    /// <summary>Sends a chat request to gateway <paramref name="gateway"/>, with <paramref name="key"/> when given.</summary>
    public async Task<(int Status, string? Code, HttpResponseMessage Response, JsonElement Body)> ChatAsync(int gateway, string body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(body) };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        var response = await Clients[gateway].SendAsync(request);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        var code = json.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : null;
        return ((int)response.StatusCode, code, response, json);
    }

    public async ValueTask DisposeAsync()
    {
        Clients.ForEach(c => c.Dispose());
        foreach (var app in _apps.Append(_simulator!))
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
