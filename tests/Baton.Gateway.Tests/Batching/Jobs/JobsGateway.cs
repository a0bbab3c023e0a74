using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Baton.Batching.Jobs;
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

namespace Baton.Gateway.Tests.Batching.Jobs;

/// <summary>
/// A real gateway whose batch jobs and ledger live in SQLite files of a temporary folder, in front of a real HTTP
/// simulator; it can be stopped and started again on the same files. <c>paced-sim</c> answers at 40 tokens a second.
/// </summary>
public sealed class JobsGateway : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-jobs-").FullName;
    private readonly TimeProvider? _time;
    private readonly StoreChanges _changes = new();
    private WebApplication? _simulator;
    private WebApplication? _gateway;

    private JobsGateway(TimeProvider? time) => _time = time;

    public BatonOptions Options { get; private set; } = new();

    public string JobsDatabase => Path.Combine(_directory, "jobs", "baton-batches.db");

    public HttpClient Http { get; private set; } = new();

    public string BaseUrl { get; private set; } = "";

    public static async Task<JobsGateway> StartAsync(Action<BatonOptions>? configure = null, TimeProvider? time = null)
    {
        var server = new JobsGateway(time);
        server._simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0", new SimulatorBehavior());
        await server._simulator.StartAsync();
        var options = GatewayServer.CreateOptions(GatewayServer.AddressOf(server._simulator));
        options.Providers["sim-paced"] = new ProviderOptions { Type = ProviderTypes.Simulator, Simulator = new SimulatorBehavior { TokensPerSecond = 40 } };
        options.Models["paced-sim"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim-paced", Model = "baton-sim-1" }] };
        options.Models["denied-sim"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim-http", Model = "baton-sim-1@401" }] };
        options.Models["hang-sim"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim-local", Model = "baton-sim-1@hang" }] };
        options.Ledger.Path = Path.Combine(server._directory, "baton.db");
        options.Batch.JobsDatabase = server.JobsDatabase;
        options.Batch.MaxConcurrency = 2;
        configure?.Invoke(options);
        server.Options = options;
        await server.StartGatewayAsync();
        return server;
    }

    public async Task StartGatewayAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (_time is not null)
        {
            builder.Services.AddSingleton(_time);
        }
        builder.Services.AddBaton(Options, name => name == "SIM_KEY" ? GatewayServer.Key : null);
        // The gateway's own store, saying when it changes (the gateway keeps a store registered before it).
        builder.Services.AddSingleton<IBatchJobStore>(_ => new SignallingBatchJobStore(new BatchJobStore(Options.Batch.JobsDatabase), _changes));
        builder.Services.AddBatonGateway();
        _gateway = builder.Build();
        _gateway.MapBaton();
        await _gateway.StartAsync();
        BaseUrl = GatewayServer.AddressOf(_gateway);
        Http.Dispose();
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
    }

    public async Task StopGatewayAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
            _gateway = null;
        }
    }

    public static string Line(string customId, string model = "local-sim", string question = "hello") =>
        $$$"""{"custom_id":"{{{customId}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"{{{model}}}","messages":[{"role":"user","content":"{{{question}}} ({{{customId}}})"}]}}""";

    public async Task<HttpResponseMessage> UploadRawAsync(string content, string? purpose = "batch", string fileName = "input.jsonl")
    {
        using var form = new MultipartFormDataContent();
        if (purpose is not null)
        {
            form.Add(new StringContent(purpose), "purpose");
        }
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(content));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", fileName);
        return await Http.PostAsync("/v1/files", form);
    }

    public async Task<string> UploadAsync(params string[] lines)
    {
        using var response = await UploadRawAsync(string.Join('\n', lines) + "\n");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await JsonAsync(response)).GetProperty("id").GetString()!;
    }

    public async Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        await Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public async Task<JsonElement> CreateBatchAsync(string fileId, string? metadata = null)
    {
        using var response = await PostJsonAsync("/v1/batches",
            $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"{{(metadata is null ? "" : ",\"metadata\":" + metadata)}}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await JsonAsync(response);
    }

    public async Task<JsonElement> GetBatchAsync(string batchId)
    {
        using var response = await Http.GetAsync($"/v1/batches/{batchId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await JsonAsync(response);
    }

    /// <summary>
    /// Reads the batch until <paramref name="done"/> holds, again after each change of the jobs store (signalled, not
    /// polled). The real-time bound only ends a test that fails: 60 seconds without a change.
    /// </summary>
    public async Task<JsonElement> WaitForAsync(string batchId, Func<JsonElement, bool> done)
    {
        while (true)
        {
            // Taken before reading, so a change made meanwhile wakes the wait.
            var changed = _changes.Next;
            var batch = await GetBatchAsync(batchId);
            if (done(batch))
            {
                return batch;
            }
            var next = await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(next == changed, "the batch did not get there: " + batch.GetRawText());
        }
    }

    public static bool IsFinished(JsonElement batch) =>
        batch.GetProperty("status").GetString() is "completed" or "failed" or "expired" or "cancelled";

    public static int Count(JsonElement batch, string name) => batch.GetProperty("request_counts").GetProperty(name).GetInt32();

    public async Task<List<JsonElement>> ResultLinesAsync(string? fileId)
    {
        if (fileId is null)
        {
            return [];
        }
        var text = await Http.GetStringAsync($"/v1/files/{fileId}/content");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
    }

    /// <summary>Upstream calls the cost ledger recorded (one row per answered request).</summary>
    public async Task<long> LedgerRequestsAsync() =>
        JsonDocument.Parse(await Http.GetStringAsync("/v1/costs")).RootElement.GetProperty("total").GetProperty("requests").GetInt64();

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await StopGatewayAsync();
        if (_simulator is not null)
        {
            await _simulator.StopAsync();
            await _simulator.DisposeAsync();
        }
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
