using System.Diagnostics;
using System.Net;
using BenchmarkDotNet.Attributes;
using Baton.Configuration;
using Baton.Engine;
using Baton.Monitoring;
using Baton.Providers;
using Baton.Requests;
using Baton.Routing;
using Baton.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Baton.Benchmarks;

/// <summary>
/// What observability adds to one request through the engine (non-streamed and streamed), against the same engine
/// without it: the dashboard's request recorder alone; metrics with an OpenTelemetry meter provider aggregating
/// cumulatively as the gateway's Prometheus reader does (no exporter, nothing scraped); and metrics with every span
/// sampled by a listener (what an application collecting the <c>Baton</c> source pays).
/// </summary>
[MemoryDiagnoser]
public class TelemetryBenchmarks
{
    /// <summary>What is switched on around the engine.</summary>
    public enum Observed
    {
        Nothing,
        Recorder,
        Metrics,
        MetricsAndRecorder,
        MetricsAndSampledSpans,
    }

    private BatonEngine _engine = null!;
    private BatonTelemetry? _telemetry;
    private MeterProvider? _meters;
    private ActivityListener? _listener;

    [Params(Observed.Nothing, Observed.Recorder, Observed.Metrics, Observed.MetricsAndRecorder, Observed.MetricsAndSampledSpans)]
    public Observed What { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new BatonOptions();
        options.Providers["upstream"] = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = "http://127.0.0.1:9/v1" };
        options.Models["bench"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "upstream", Model = "bench-upstream" }] };
        options.Models["bench-stream"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "upstream", Model = "bench-upstream" }] };
        var time = TimeProvider.System;
        var factory = new ProviderFactory(new HttpMessageInvoker(new Upstream()), time, new SecretRedactor(), _ => null);
        var catalog = new ModelCatalog(options, factory, time);
        var metrics = What is Observed.Metrics or Observed.MetricsAndRecorder or Observed.MetricsAndSampledSpans;
        if (metrics)
        {
            _telemetry = new BatonTelemetry(new ObservabilityOptions { Tracing = true, Metrics = true }, catalog: catalog);
            // The gateway's set-up: the Baton meter read cumulatively (the Prometheus exporter's temporality), nothing exported.
            _meters = Sdk.CreateMeterProviderBuilder()
                .AddMeter(BatonTelemetry.Name)
                .AddReader(new BaseExportingMetricReader(new DiscardingExporter()) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative })
                .Build();
        }
        if (What == Observed.MetricsAndSampledSpans)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == BatonTelemetry.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_listener);
        }
        var recorder = What is Observed.Recorder or Observed.MetricsAndRecorder ? new RequestRecorder(time) : null;
        _engine = new BatonEngine(catalog, new TaskRouter(options), time, NullLogger<BatonEngine>.Instance, telemetry: _telemetry, recorder: recorder);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _meters?.Dispose();
        _telemetry?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<int> Complete()
    {
        using var result = await _engine.CompleteAsync(ChatRequestParser.Parse(Payloads.Request), CancellationToken.None).ConfigureAwait(false);
        return result.Body.Length;
    }

    [Benchmark]
    public async Task<int> Stream()
    {
        await using var result = await _engine.StreamAsync(ChatRequestParser.Parse(Payloads.StreamRequest), CancellationToken.None).ConfigureAwait(false);
        var length = 0;
        await foreach (var chunk in result.ReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            length += chunk.Json.Length;
        }
        return length;
    }

    private sealed class DiscardingExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }

    /// <summary>An OpenAI-compatible upstream in process: the recorded completion or stream.</summary>
    private sealed class Upstream : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await request.Content!.CopyToAsync(System.IO.Stream.Null, cancellationToken).ConfigureAwait(false);
            var stream = request.Headers.Accept.Any(a => a.MediaType == "text/event-stream");
            var content = new ByteArrayContent(stream ? Payloads.Stream : Payloads.Completion);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(stream ? "text/event-stream" : "application/json");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        }
    }
}
