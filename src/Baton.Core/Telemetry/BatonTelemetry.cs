using System.Diagnostics;
using System.Diagnostics.Metrics;
using Baton.Accounting.Ledger;
using Baton.Configuration;
using Baton.Routing;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace Baton.Telemetry;

/// <summary>
/// Baton's traces and metrics: the <c>Baton</c> <see cref="ActivitySource"/> (a span per request, a child span per
/// upstream attempt) and the <c>Baton</c> <see cref="Meter"/> (the OpenTelemetry GenAI client metrics and Baton's
/// own). Only System.Diagnostics is used: an application collects them by adding the source and the meter named
/// <see cref="Name"/> to its OpenTelemetry set-up (<c>AddSource("Baton")</c>, <c>AddMeter("Baton")</c>); nothing
/// is recorded while nobody listens.
/// </summary>
public sealed partial class BatonTelemetry : IDisposable
{
    /// <summary>The name of Baton's activity source and of its meter.</summary>
    public const string Name = "Baton";

    /// <summary>
    /// The source of every Baton span (the gateway's server span too); shared by all engines in the process, as an
    /// activity source carries no state of its own.
    /// </summary>
    public static ActivitySource Source { get; } = new(Name, typeof(BatonTelemetry).Assembly.GetName().Version?.ToString());

    // Bucket boundaries the GenAI semantic conventions advise, as Microsoft.Extensions.AI's OpenTelemetryChatClient uses them.
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] SecondBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] FirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

    private readonly Meter? _ownedMeter;
    private readonly List<(Resilience.DeploymentResilience Resilience, Action<CircuitState> Handler)> _watched = [];

    /// <summary>Creates Baton's instruments on a meter from <paramref name="meterFactory"/>, or on its own meter without one.</summary>
    /// <param name="options">The <c>observability</c> settings.</param>
    /// <param name="meterFactory">The application's meter factory (dependency injection's, whose meters end with the container).</param>
    /// <param name="catalog">The deployments whose breaker states are observed.</param>
    /// <param name="ledger">The ledger whose backlog is observed; null without one.</param>
    /// <param name="logger">Where breaker changes are logged.</param>
    public BatonTelemetry(ObservabilityOptions options, IMeterFactory? meterFactory = null, ModelCatalog? catalog = null, LedgerWriter? ledger = null,
        ILogger<BatonTelemetry>? logger = null)
    {
        Tracing = options.Tracing;
        CaptureContent = options.CaptureContent;
        if (catalog is not null)
        {
            WatchBreakers(catalog, logger);
        }
        if (!options.Metrics)
        {
            return;
        }
        var meter = meterFactory?.Create(new MeterOptions(Name) { Version = Source.Version }) ?? (_ownedMeter = new Meter(Name, Source.Version));
        Meter = meter;
        TokenUsage = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens used by an answer, by gen_ai.token.type (input, output).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        OperationDuration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "Duration of a chat request through Baton, retries and fallbacks included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondBuckets });
        TimeToFirstToken = meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "Time from a streamed request's arrival to its first chunk.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FirstTokenBuckets });
        Requests = meter.CreateCounter<long>("baton.requests", "{request}", "Chat requests by outcome (ok or the error code).");
        Cost = meter.CreateCounter<double>("baton.cost.usd", "{USD}", "Cost in US dollars of the answers, by model and key.");
        CacheLookups = meter.CreateCounter<long>("baton.cache.lookups", "{lookup}", "Response cache lookups, by baton.cache.result (hit, miss).");
        Retries = meter.CreateCounter<long>("baton.retries", "{retry}", "Upstream calls retried on the same deployment.");
        Fallbacks = meter.CreateCounter<long>("baton.fallbacks", "{request}", "Requests answered by another deployment or model than the first choice.");
        RateLimitWaits = meter.CreateCounter<long>("baton.rate_limit.waits", "{wait}", "Requests that queued for a deployment's rate limit.");
        RateLimitRefusals = meter.CreateCounter<long>("baton.rate_limit.refusals", "{refusal}", "Requests refused by a deployment's rate limit after queuing as long as allowed.");
        BreakerTransitions = meter.CreateCounter<long>("baton.breaker.transitions", "{transition}", "Circuit breaker state changes, by deployment and new state.");
        ActiveRequests = meter.CreateUpDownCounter<long>("baton.requests.active", "{request}", "Chat requests in flight (a stream until it ends).");
        if (catalog is not null)
        {
            meter.CreateObservableGauge("baton.breaker.state", () => BreakerStates(catalog), "{state}",
                "Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open, 3 isolated.");
        }
        if (ledger is not null)
        {
            meter.CreateObservableGauge("baton.ledger.backlog", () => ledger.Backlog, "{row}", "Ledger rows queued and not yet written.");
            meter.CreateObservableCounter("baton.ledger.overflowed", () => ledger.Overflowed, "{row}",
                "Ledger rows spilled to the overflow file because the backlog held in memory was full (ledger.maxBacklog).");
        }
    }

    /// <summary>True when Baton starts spans (<c>observability.tracing</c>); they are recorded only while something listens.</summary>
    public bool Tracing { get; }

    /// <summary>True when prompts and answers go on spans (<c>observability.captureContent</c>).</summary>
    public bool CaptureContent { get; }

    internal Meter? Meter { get; }

    internal Histogram<long>? TokenUsage { get; }
    internal Histogram<double>? OperationDuration { get; }
    internal Histogram<double>? TimeToFirstToken { get; }
    internal Counter<long>? Requests { get; }
    internal Counter<double>? Cost { get; }
    internal Counter<long>? CacheLookups { get; }
    internal Counter<long>? Retries { get; }
    internal Counter<long>? Fallbacks { get; }
    internal Counter<long>? RateLimitWaits { get; }
    internal Counter<long>? RateLimitRefusals { get; }
    internal Counter<long>? BreakerTransitions { get; }
    internal UpDownCounter<long>? ActiveRequests { get; }

    /// <summary>
    /// Starts a span named <c>{operation} {model}</c> when tracing is on and something listens to the <c>Baton</c>
    /// source; null otherwise. The name is built only then, so an unobserved request allocates nothing for it.
    /// </summary>
    internal Activity? StartActivity(string operation, string model, ActivityKind kind, ActivityContext parent = default) =>
        Tracing && Source.HasListeners() ? Source.StartActivity(operation + " " + model, kind, parent) : null;

    /// <summary>Starts a span whose name is already built, on the same conditions as the overload above.</summary>
    internal Activity? StartActivity(string name, ActivityKind kind, ActivityContext parent) =>
        Tracing && Source.HasListeners() ? Source.StartActivity(name, kind, parent) : null;

    private static IEnumerable<Measurement<int>> BreakerStates(ModelCatalog catalog)
    {
        foreach (var deployment in catalog.Deployments)
        {
            var state = deployment.Resilience.BreakerState switch
            {
                CircuitState.Closed => 0,
                CircuitState.HalfOpen => 1,
                CircuitState.Open => 2,
                _ => 3,
            };
            yield return new Measurement<int>(state, new KeyValuePair<string, object?>(TelemetryTags.Deployment, deployment.Id));
        }
    }

    /// <summary>Logs and counts every breaker change: an opened breaker is what an operator most needs to hear of.</summary>
    private void WatchBreakers(ModelCatalog catalog, ILogger? logger)
    {
        foreach (var deployment in catalog.Deployments)
        {
            var id = deployment.Id;
            Action<CircuitState> handler = state =>
            {
                var name = state switch
                {
                    CircuitState.Open => "open",
                    CircuitState.HalfOpen => "half-open",
                    CircuitState.Closed => "closed",
                    _ => "isolated",
                };
                BreakerTransitions?.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Deployment, id),
                    new KeyValuePair<string, object?>(TelemetryTags.BreakerState, name));
                if (logger is null)
                {
                    return;
                }
                switch (state)
                {
                    case CircuitState.Open:
                        Log.BreakerOpened(logger, id);
                        break;
                    case CircuitState.Closed:
                        Log.BreakerClosed(logger, id);
                        break;
                    default:
                        Log.BreakerHalfOpened(logger, id);
                        break;
                }
            };
            deployment.Resilience.BreakerChanged += handler;
            _watched.Add((deployment.Resilience, handler));
        }
    }

    public void Dispose()
    {
        foreach (var (resilience, handler) in _watched)
        {
            resilience.BreakerChanged -= handler;
        }
        _ownedMeter?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Circuit breaker of {Deployment} opened: calls are refused until its break is over")]
        public static partial void BreakerOpened(ILogger logger, string deployment);

        [LoggerMessage(2, LogLevel.Information, "Circuit breaker of {Deployment} half-open: letting a probe through")]
        public static partial void BreakerHalfOpened(ILogger logger, string deployment);

        [LoggerMessage(3, LogLevel.Information, "Circuit breaker of {Deployment} closed: the deployment answers again")]
        public static partial void BreakerClosed(ILogger logger, string deployment);
    }
}
