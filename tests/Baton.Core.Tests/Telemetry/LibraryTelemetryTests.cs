using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Hosting;
using Baton.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Core.Tests.Telemetry;

/// <summary>The library face (Baton's <see cref="IChatClient"/> without the gateway) records the same spans and metrics.</summary>
public sealed class LibraryTelemetryTests : IDisposable
{
    private static readonly ActivitySource Application = new("Baton.Tests.Application");

    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly ServiceProvider _services;
    private readonly string _model = "library-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _embeddingsModel = "library-embed-" + Guid.NewGuid().ToString("N")[..8];

    public LibraryTelemetryTests()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name is BatonTelemetry.Name or "Baton.Tests.Application",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_activities);

        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        // The first deployment always fails: the answer comes from the second, on the second attempt.
        options.Models[_model] = new ModelOptions
        {
            Deployments =
            [
                new DeploymentOptions { Provider = "sim", Model = "baton-sim-1@503" },
                new DeploymentOptions { Provider = "sim", Model = "baton-sim-1" },
            ],
        };
        options.Models[_embeddingsModel] = new ModelOptions
        {
            Kind = "embeddings",
            Deployments = [new DeploymentOptions { Provider = "sim", Model = "baton-sim-embed" }],
        };
        options.Resilience = new ResilienceOptions { MaxRetries = 0, CircuitBreaker = new CircuitBreakerOptions { MinimumThroughput = 100_000 } };
        options.Ledger.Path = Path.Combine(Path.GetTempPath(), $"baton-library-telemetry-{Guid.NewGuid():N}.db");
        options.Prices["baton-sim-1"] = new PriceOptions { Input = 1m, Output = 2m };
        _services = new ServiceCollection().AddBaton(options).AddBatonSimulator().BuildServiceProvider();

        // Only this container's meter: every other test's engine has a "Baton" meter of its own.
        var factory = _services.GetRequiredService<IMeterFactory>();
        _meters = _measurements.Listen(instrument => instrument.Meter.Name == BatonTelemetry.Name && ReferenceEquals(instrument.Meter.Scope, factory));
    }

    private IChatClient Client => _services.GetRequiredService<IChatClient>();

    [Fact]
    public async Task An_embeddings_call_is_an_embeddings_span_with_its_attempt_and_token_usage()
    {
        ActivityTraceId traceId;
        using (var parent = Application.StartActivity("application work"))
        {
            traceId = parent!.TraceId;
            var generator = _services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
            var vectors = await generator.GenerateAsync(["a red apple"], new EmbeddingGenerationOptions { ModelId = _embeddingsModel });
            Assert.Single(vectors);
        }

        var spans = _spans.Where(s => s.TraceId == traceId).ToList();
        var request = Assert.Single(spans, s => s.DisplayName == "embeddings " + _embeddingsModel);
        Assert.Equal("embeddings", request.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(_embeddingsModel, request.GetTagItem("gen_ai.request.model"));
        Assert.Equal("sim/baton-sim-embed", request.GetTagItem("baton.deployment"));
        Assert.Null(request.GetTagItem("gen_ai.input.messages"));
        Assert.Single(spans, s => s.ParentSpanId == request.SpanId);
        var input = Assert.Single(Measured("gen_ai.client.token.usage"), m => (string?)m.Tags["gen_ai.token.type"] == "input");
        Assert.True(input.Value > 0);
        Assert.Equal("ok", Assert.Single(Measured("baton.requests")).Tags["baton.outcome"]);
    }

    [Fact]
    public async Task A_call_is_a_span_with_an_attempt_span_per_deployment_and_GenAI_metrics()
    {
        ActivityTraceId traceId;
        using (var parent = Application.StartActivity("application work"))
        {
            traceId = parent!.TraceId;
            var response = await Client.GetResponseAsync("Name a colour.", new ChatOptions { ModelId = _model });
            Assert.NotEmpty(response.Text);
        }

        var spans = _spans.Where(s => s.TraceId == traceId).ToList();
        var request = Assert.Single(spans, s => s.DisplayName == "chat " + _model);
        var application = Assert.Single(spans, s => s.DisplayName == "application work");
        Assert.Equal(application.SpanId, request.ParentSpanId);
        Assert.Equal("chat", request.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(_model, request.GetTagItem("gen_ai.request.model"));
        Assert.Equal("simulator", request.GetTagItem("gen_ai.provider.name"));
        Assert.Equal(2, request.GetTagItem("baton.attempts"));
        Assert.Equal(true, request.GetTagItem("baton.fallback"));
        Assert.Equal("sim/baton-sim-1", request.GetTagItem("baton.deployment"));
        Assert.True((double)request.GetTagItem("baton.cost_usd")! > 0);
        Assert.Null(request.GetTagItem("gen_ai.input.messages"));

        var attempts = spans.Where(s => s.ParentSpanId == request.SpanId).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(["sim/baton-sim-1@503", "sim/baton-sim-1"], attempts.Select(a => (string)a.GetTagItem("baton.deployment")!).ToArray());
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(ActivityStatusCode.Unset, attempts[1].Status);

        var input = Assert.Single(Measured("gen_ai.client.token.usage"), m => (string?)m.Tags["gen_ai.token.type"] == "input");
        Assert.True(input.Value > 0);
        Assert.Equal(_model, input.Tags["gen_ai.request.model"]);
        Assert.Equal("simulator", input.Tags["gen_ai.provider.name"]);
        Assert.Single(Measured("gen_ai.client.token.usage"), m => (string?)m.Tags["gen_ai.token.type"] == "output");
        Assert.Single(Measured("gen_ai.client.operation.duration"));
        var outcome = Assert.Single(Measured("baton.requests"));
        Assert.Equal("ok", outcome.Tags["baton.outcome"]);
        Assert.Single(Measured("baton.fallbacks"));
        Assert.True(Assert.Single(Measured("baton.cost.usd")).Value > 0);
        // In flight while it ran, not after.
        Assert.Equal(0, Measured("baton.requests.active").Sum(m => m.Value));
        Assert.Equal(2, Measured("baton.requests.active").Count);
    }

    [Fact]
    public async Task A_streamed_call_records_its_time_to_first_token()
    {
        var chunks = 0;
        await foreach (var update in Client.GetStreamingResponseAsync("Name a colour.", new ChatOptions { ModelId = _model }))
        {
            chunks++;
        }
        Assert.True(chunks > 1);

        var request = Assert.Single(_spans, s => s.DisplayName == "chat " + _model);
        Assert.Equal(true, request.GetTagItem("baton.stream"));
        Assert.Equal("ok", request.GetTagItem("baton.outcome"));
        Assert.True((int)request.GetTagItem("gen_ai.usage.output_tokens")! > 0);
        var first = Assert.Single(Measured("gen_ai.server.time_to_first_token"));
        Assert.True(first.Value >= 0);
        Assert.Equal(_model, first.Tags["gen_ai.request.model"]);
    }

    [Fact]
    public void The_breaker_state_of_every_deployment_is_observed()
    {
        // The instruments exist once Baton is in use (its engine built).
        Assert.NotNull(Client);
        _meters.RecordObservableInstruments();
        var states = Measured("baton.breaker.state");
        Assert.Equal(["sim/baton-sim-1", "sim/baton-sim-1@503", "sim/baton-sim-embed"], states.Select(s => (string)s.Tags["baton.deployment"]!).Order().ToArray());
        Assert.All(states, s => Assert.Equal(0, s.Value));
    }

    private List<(string Instrument, double Value, Dictionary<string, object?> Tags)> Measured(string instrument) =>
        _measurements.Where(m => m.Instrument == instrument).ToList();

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
        _services.Dispose();
    }
}
