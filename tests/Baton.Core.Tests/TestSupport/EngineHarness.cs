using Baton.Configuration;
using Baton.Engine;
using Baton.Providers;
using Baton.Requests;
using Baton.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.TestSupport;

/// <summary>An engine over scripted providers and a fake clock, configured by a test.</summary>
public sealed class EngineHarness
{
    public TrackingTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public BatonOptions Options { get; } = new();

    public Dictionary<string, ScriptedProvider> Providers { get; } = new(StringComparer.OrdinalIgnoreCase);

    private BatonEngine? _engine;

    /// <summary>Prices, budgets and ledger for the engine; set before <see cref="Engine"/> is first used.</summary>
    public Baton.Accounting.CostAccountant? Accounting { get; set; }

    /// <summary>The request recorder the engine reports to; set before <see cref="Engine"/> is first used.</summary>
    public Baton.Monitoring.RequestRecorder? Recorder { get; set; }

    /// <summary>Traces and metrics for the engine; set before <see cref="Engine"/> is first used.</summary>
    public Baton.Telemetry.BatonTelemetry? Telemetry { get; set; }

    /// <summary>Where the deployments' rate-limit buckets live (in memory when null); set before <see cref="Engine"/> is first used.</summary>
    public Baton.RateLimiting.IRateLimitStore? RateLimitStore { get; set; }

    public BatonEngine Engine => _engine ??= new BatonEngine(
        new ModelCatalog(Options, (name, _) => Providers[name], Time, RateLimitStore), new TaskRouter(Options), Time, NullLogger<BatonEngine>.Instance, Cache, Accounting,
        telemetry: Telemetry, recorder: Recorder);

    /// <summary>The response cache the engine uses, if any (see <see cref="UseCache"/>).</summary>
    public Baton.Caching.ResponseCache? Cache { get; private set; }

    /// <summary>Turns the response cache on, in memory unless a store is given.</summary>
    public Baton.Caching.ResponseCache UseCache(string mode = CacheModes.On, Baton.Caching.ICacheStore? store = null, double? ttlSeconds = null)
    {
        Options.Cache = new CacheOptions { Mode = mode, TtlSeconds = ttlSeconds };
        Cache = new Baton.Caching.ResponseCache(store ?? new Baton.Caching.MemoryCacheStore(1 << 20, Time), Options.Cache, Time);
        return Cache;
    }

    public ScriptedProvider Provider(string name)
    {
        if (!Providers.TryGetValue(name, out var provider))
        {
            provider = new ScriptedProvider(name, Time);
            Providers[name] = provider;
            Options.Providers[name] = new ProviderOptions { Type = ProviderTypes.Simulator };
        }
        return provider;
    }

    /// <summary>Adds a model served by the named providers in order (each providing upstream model "m").</summary>
    public ModelOptions Model(string name, params string[] providers)
    {
        var model = new ModelOptions { Deployments = providers.Select(p => { Provider(p); return new DeploymentOptions { Provider = p, Model = "m" }; }).ToList() };
        Options.Models[name] = model;
        return model;
    }

    /// <summary>Sets rate limits on every deployment of the named provider.</summary>
    public RateLimitOptions Limits(string provider, int? requestsPerMinute = null, int? tokensPerMinute = null, int? maxConcurrency = null, double? maxQueueWaitSeconds = null)
    {
        Provider(provider);
        var limits = new RateLimitOptions
        {
            RequestsPerMinute = requestsPerMinute,
            TokensPerMinute = tokensPerMinute,
            MaxConcurrency = maxConcurrency,
            MaxQueueWaitSeconds = maxQueueWaitSeconds,
        };
        Options.Providers[provider].RateLimits = limits;
        return limits;
    }

    public static ChatRequest Request(string model, bool stream = false, string metadata = "") => ChatRequestParser.Parse(System.Text.Encoding.UTF8.GetBytes(
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}}{{metadata}},"messages":[{"role":"user","content":"hello"}]}"""));

    /// <summary>
    /// Drives a call to completion by moving the fake clock, so backoff delays and timeouts pass without the test
    /// waiting for them. The clock moves only while the call is parked on it: no thread runs the call's code, and (by
    /// default) some caller waits in a <c>Task.Delay</c> or a hang; <paramref name="parked"/> narrows that for a test
    /// that knows more. It never moves past the next timer's due time, so what a woken caller does happens at the
    /// time it was due. Returns the result and how much simulated time it took.
    /// </summary>
    public async Task<(T Result, TimeSpan Elapsed)> RunAsync<T>(Func<Task<T>> call, TimeSpan? step = null, Func<bool>? parked = null)
    {
        var started = Time.GetUtcNow();
        var result = await Time.DriveAsync(call, step ?? TimeSpan.FromMilliseconds(100), parked);
        return (result, Time.GetUtcNow() - started);
    }

    public Task<(ChatCompletionResult Result, TimeSpan Elapsed)> CompleteAsync(ChatRequest request, TimeSpan? step = null) =>
        RunAsync(() => Engine.CompleteAsync(request, CancellationToken.None), step);
}
