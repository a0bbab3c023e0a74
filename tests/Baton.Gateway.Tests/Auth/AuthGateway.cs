using System.ClientModel;
using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Baton.Hosting;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Auth;

/// <summary>
/// A real gateway with keys (<c>auth.masterKeyEnv</c>), a ledger, budgets and batch jobs in SQLite files of a
/// temporary folder, in front of a real HTTP simulator, on a clock the test may hold. Every log message is
/// captured. The simulated model is priced at $1 (input) and $2 (output) per million tokens.
/// </summary>
public sealed class AuthGateway : IAsyncDisposable
{
    public const string MasterKeyVariable = "BATON_TEST_MASTER_KEY";
    public const string MasterKey = "mk-test-master-secret-0123456789";

    /// <summary>A request header naming a request, for <see cref="RequestEnded"/>.</summary>
    public const string RequestTagHeader = "x-test-request";

    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("baton-auth-").FullName;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _ended = new(StringComparer.Ordinal);
    private TaskCompletionSource _upstreamCall = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _simulator;
    private WebApplication? _gateway;

    private AuthGateway()
    {
    }

    public string Directory => _directory;

    public string LedgerPath => Path.Combine(_directory, "baton.db");

    public string BaseUrl { get; private set; } = "";

    /// <summary>A client that sends no key.</summary>
    public HttpClient Anonymous { get; private set; } = new();

    /// <summary>Every message the gateway logged, at every level.</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    /// <summary>
    /// Completes when the simulator receives its next request over HTTP: an upstream call of the gateway has begun, so
    /// what the gateway takes before calling upstream (a key's slot, its budget) is held. Take it before sending.
    /// </summary>
    public Task NextUpstreamCall => Volatile.Read(ref _upstreamCall).Task;

    /// <summary>
    /// Completes when the gateway has finished handling the request sent with <see cref="RequestTagHeader"/> set to
    /// <paramref name="tag"/>, however it ended (answered, refused, abandoned by its client): every lease it held is given back.
    /// </summary>
    public Task RequestEnded(string tag) => EndOf(tag).Task;

    private TaskCompletionSource EndOf(string tag) =>
        _ended.GetOrAdd(tag, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public static async Task<AuthGateway> StartAsync(TimeProvider? time = null, Action<BatonOptions>? configure = null)
    {
        var server = new AuthGateway();
        server._simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0", new SimulatorBehavior());
        server._simulator.Use((context, next) =>
        {
            Interlocked.Exchange(ref server._upstreamCall, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return next(context);
        });
        await server._simulator.StartAsync();
        var options = GatewayServer.CreateOptions(GatewayServer.AddressOf(server._simulator));
        options.Models["hang-sim"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim-local", Model = "baton-sim-1@hang" }] };
        // The same silent upstream over HTTP, whose call the simulator sees (NextUpstreamCall).
        options.Models["hang-http-sim"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim-http", Model = "baton-sim-1@hang" }] };
        options.Ledger.Path = server.LedgerPath;
        options.Batch.JobsDatabase = Path.Combine(server._directory, "jobs", "baton-batches.db");
        options.Prices["baton-sim-1"] = new PriceOptions { Input = 1m, Output = 2m };
        options.Auth.MasterKeyEnv = MasterKeyVariable;
        options.Pipelines["echo"] = server.WritePipeline();
        configure?.Invoke(options);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(new CapturingLoggerProvider(server.Logs));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }
        builder.Services.AddBaton(options, name => name switch
        {
            "SIM_KEY" => GatewayServer.Key,
            MasterKeyVariable => MasterKey,
            _ => null,
        });
        builder.Services.AddBatonGateway();
        server._gateway = builder.Build();
        server._gateway.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            finally
            {
                if (context.Request.Headers[RequestTagHeader].ToString() is { Length: > 0 } tag)
                {
                    server.EndOf(tag).TrySetResult();
                }
            }
        });
        server._gateway.MapBaton();
        await server._gateway.StartAsync();
        server.BaseUrl = GatewayServer.AddressOf(server._gateway);
        server.Anonymous = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        return server;
    }

    private string WritePipeline()
    {
        var path = Path.Combine(_directory, "echo.yaml");
        File.WriteAllText(path, """
            name: echo
            steps:
              answer:
                model: local-sim
                promptText: "Say {{text}}"
            """);
        return path;
    }

    /// <summary>A client that sends <paramref name="key"/> as <c>Authorization: Bearer</c>, or as <c>x-api-key</c>.</summary>
    public HttpClient Client(string key, bool apiKeyHeader = false)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        if (apiKeyHeader)
        {
            client.DefaultRequestHeaders.Add("x-api-key", key);
        }
        else
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>The official OpenAI SDK's chat client, with <paramref name="key"/> as its credential.</summary>
    public ChatClient Sdk(string key, string model) =>
        new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(BaseUrl + "/v1") }).GetChatClient(model);

    /// <summary>Creates a key with the master key; returns its id and secret.</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(string body = "{}")
    {
        using var master = Client(MasterKey);
        using var response = await master.PostAsync("/admin/keys", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, text);
        var created = JsonDocument.Parse(text).RootElement;
        return (created.GetProperty("id").GetString()!, created.GetProperty("key").GetString()!);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string Chat(string model, string content = "hello", string extra = "") =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{content}}"}]{{extra}}}""";

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>The error code of an error answer.</summary>
    public static async Task<string?> ErrorCodeAsync(HttpResponseMessage response) =>
        (await ReadJsonAsync(response)).GetProperty("error").GetProperty("code").GetString();

    /// <summary>Rows of the ledger, read from its file once the gateway has written them.</summary>
    public async Task<List<(string? ApiKey, string? User, string? Tags, string Deployment, decimal Cost, string? Project, bool Continuation)>> LedgerRowsAsync()
    {
        using var master = Client(MasterKey);
        // Reading the costs makes the gateway write every queued row first.
        (await master.GetAsync("/v1/costs")).Dispose();
        using var connection = new SqliteConnection($"Data Source={LedgerPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT api_key, user, tags, deployment, cost_picousd, project, continuation FROM ledger ORDER BY id";
        using var reader = command.ExecuteReader();
        var rows = new List<(string?, string?, string?, string, decimal, string?, bool)>();
        while (reader.Read())
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            rows.Add((Text(0), Text(1), Text(2), reader.GetString(3), reader.GetInt64(4) / 1_000_000_000_000m, Text(5), reader.GetInt64(6) != 0));
        }
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        Anonymous.Dispose();
        await GatewayServer.StopAsync(_gateway, _simulator);
        SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(_directory, recursive: true);
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, logs);

        public void Dispose()
        {
        }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
