using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Simulation;
using Baton.Gateway.Tests.TestSupport;
using Baton.Simulation;
using Baton.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Telemetry;

/// <summary>
/// A gateway built as <c>baton serve</c> builds it (keys on, SQLite files in a temporary folder) in front of Baton's
/// simulator over real HTTP, which records the headers of every upstream request it receives. Every span of the
/// <c>Baton</c> source that ends while it runs is kept; each test tells its own apart by the trace id it sends.
/// </summary>
public sealed class TelemetryGateway : IAsyncDisposable
{
    public const string MasterKeyVariable = "BATON_TELEMETRY_MASTER_KEY";
    public const string MasterKey = "mk-telemetry-master-secret-0123456789";

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-telemetry-").FullName;
    private readonly ActivityListener _listener;
    private WebApplication? _simulator;

    private TelemetryGateway()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BatonTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public WebApplication Gateway { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Spans of the Baton source ended so far (by every gateway of the test process).</summary>
    public ConcurrentBag<Activity> Spans { get; } = [];

    /// <summary>The <c>traceparent</c> header of each upstream request the simulator received, by upstream model.</summary>
    public ConcurrentQueue<(string Path, string? TraceParent)> UpstreamRequests { get; } = new();

    public static async Task<TelemetryGateway> StartAsync(Action<BatonOptions>? configure = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var server = new TelemetryGateway();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        server._simulator = builder.Build();
        server._simulator.Use(async (http, next) =>
        {
            server.UpstreamRequests.Enqueue((http.Request.Path, http.Request.Headers.TraceParent.ToString() is { Length: > 0 } parent ? parent : null));
            await next(http);
        });
        server._simulator.MapBatonSimulator(new SimulatorBehavior());
        await server._simulator.StartAsync();

        var options = GatewayServer.CreateOptions(GatewayServer.AddressOf(server._simulator));
        options.Ledger.Path = Path.Combine(server._directory, "baton.db");
        options.Batch.JobsDatabase = Path.Combine(server._directory, "baton-batches.db");
        options.Prices["baton-sim-1"] = new PriceOptions { Input = 1m, Output = 2m };
        options.Auth.MasterKeyEnv = MasterKeyVariable;
        configure?.Invoke(options);
        server.Gateway = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, name => name switch
        {
            "SIM_KEY" => GatewayServer.Key,
            MasterKeyVariable => MasterKey,
            _ => null,
        }, telemetryEnvironment: name => environment is not null && environment.TryGetValue(name, out var value) ? value : null);
        await server.Gateway.StartAsync();
        server.BaseUrl = GatewayServer.AddressOf(server.Gateway);
        return server;
    }

    /// <summary>A client sending <paramref name="key"/> (the master key by default); none when null.</summary>
    public HttpClient Client(string? key = MasterKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>The spans of one trace, once its request span has ended (a stream's ends after the response).</summary>
    public IReadOnlyList<Activity> Trace(ActivityTraceId traceId) => Spans.Where(s => s.TraceId == traceId).ToList();

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await Gateway.StopAsync();
        await Gateway.DisposeAsync();
        if (_simulator is not null)
        {
            await _simulator.StopAsync();
            await _simulator.DisposeAsync();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold a file for a moment; the folder is temporary anyway.
        }
    }
}
