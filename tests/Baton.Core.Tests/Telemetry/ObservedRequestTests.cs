using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Monitoring;
using Baton.Providers;
using Baton.Telemetry;

namespace Baton.Core.Tests.Telemetry;

/// <summary>
/// The request recorder and the request's telemetry (span and metrics) observe each request in one wrapper around
/// the engine: every way a request ends reaches both, exactly once, on a fake clock. Spans follow the listener's
/// sampling decision: recorded with every attribute when sampled, absent when not, while metrics and the recorder
/// go on either way. Run alone (<see cref="SourceListenersCollection"/>): another test's listener sampling every span
/// of the <c>Baton</c> source would sample this test's unsampled request too.
/// </summary>
[Collection(SourceListenersCollection.Name)]
public sealed class ObservedRequestTests : IDisposable
{
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly BatonTelemetry _telemetry = new(new ObservabilityOptions());
    private readonly EngineHarness _harness = new();
    private readonly RequestRecorder _recorder;
    private readonly string _model = "observed-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _unsampled = "unsampled-" + Guid.NewGuid().ToString("N")[..8];

    public ObservedRequestTests()
    {
        // Every span of this test's model is sampled; a request for the other model is not (nor its attempts).
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BatonTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Name == "chat " + _unsampled ? ActivitySamplingResult.None : ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_activities);
        _meters = _measurements.Listen(instrument => ReferenceEquals(instrument.Meter, _telemetry.Meter));
        _recorder = new RequestRecorder(_harness.Time);
        _harness.Telemetry = _telemetry;
        _harness.Recorder = _recorder;
        _harness.Options.Resilience = new ResilienceOptions { MaxRetries = 0, MaxStreamResumes = 0 };
        _harness.Model(_model, "a");
        _harness.Model(_unsampled, "a");
    }

    [Fact]
    public async Task A_sampled_answer_has_its_spans_with_every_attribute_its_metrics_and_its_record()
    {
        _harness.Provider("a").Answer(after: TimeSpan.FromSeconds(2), usage: TokenUsage.Of(40, 12));

        var (result, _) = await _harness.CompleteAsync(EngineHarness.Request(_model));
        result.Dispose();

        var request = Assert.Single(Mine());
        Assert.Equal("chat " + _model, request.DisplayName);
        Assert.Equal(ActivityKind.Internal, request.Kind);
        Assert.Equal("chat", request.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(false, request.GetTagItem("baton.stream"));
        Assert.Equal("ok", request.GetTagItem("baton.outcome"));
        Assert.Equal(40, request.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(12, request.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(_model, request.GetTagItem("baton.model"));
        Assert.Equal("a/m", request.GetTagItem("baton.deployment"));
        Assert.Equal(1, request.GetTagItem("baton.attempts"));
        Assert.Equal("bypass", request.GetTagItem("baton.cache"));
        Assert.NotNull(request.GetTagItem("gen_ai.provider.name"));
        Assert.NotNull(request.GetTagItem("gen_ai.response.model"));
        var attempt = Assert.Single(_spans, s => s.ParentSpanId == request.SpanId);
        Assert.Equal("chat m", attempt.DisplayName);
        Assert.Equal(ActivityKind.Client, attempt.Kind);
        Assert.Equal("a/m", attempt.GetTagItem("baton.deployment"));
        Assert.Equal(1, attempt.GetTagItem("baton.attempt"));

        var duration = Assert.Single(Measured("gen_ai.client.operation.duration", _model));
        Assert.Equal(2, duration.Value);
        Assert.False(duration.Tags.ContainsKey("error.type"));
        Assert.Equal([40d, 12d], Measured("gen_ai.client.token.usage", _model).Select(m => m.Value).ToArray());
        Assert.Equal("ok", Assert.Single(Measured("baton.requests", _model)).Tags["baton.outcome"]);
        var recorded = Assert.Single(_recorder.Recent(10));
        Assert.Equal((200, 2000d, 40, 12), (recorded.Status, recorded.LatencyMs, recorded.InputTokens, recorded.OutputTokens));
        AssertNothingInFlight();
    }

    [Fact]
    public async Task An_unsampled_request_has_no_span_but_its_metrics_and_its_record()
    {
        _harness.Provider("a").Answer(after: TimeSpan.FromSeconds(1), usage: TokenUsage.Of(5, 7));

        var (result, _) = await _harness.CompleteAsync(EngineHarness.Request(_unsampled));
        result.Dispose();

        // Neither the request's span nor an attempt span: the listener said no, and nothing else listens to this model.
        Assert.DoesNotContain(_spans, s => s.DisplayName.Contains(_unsampled, StringComparison.Ordinal) || (string?)s.GetTagItem("baton.model") == _unsampled);
        Assert.Equal(1, Assert.Single(Measured("gen_ai.client.operation.duration", _unsampled)).Value);
        Assert.Equal([5d, 7d], Measured("gen_ai.client.token.usage", _unsampled).Select(m => m.Value).ToArray());
        Assert.Equal("ok", Assert.Single(Measured("baton.requests", _unsampled)).Tags["baton.outcome"]);
        Assert.Equal(_unsampled, Assert.Single(_recorder.Recent(10)).Model);
        AssertNothingInFlight();
    }

    [Fact]
    public async Task A_failed_request_ends_its_span_its_metrics_and_its_record_with_the_error()
    {
        _harness.Provider("a").Fail(503);

        var error = await Assert.ThrowsAsync<BatonException>(() => _harness.CompleteAsync(EngineHarness.Request(_model)));

        var request = Assert.Single(Mine());
        Assert.Equal(ActivityStatusCode.Error, request.Status);
        var type = RequestTelemetry.ErrorType(error);
        Assert.Equal(type, request.GetTagItem("error.type"));
        Assert.Equal(type, request.GetTagItem("baton.outcome"));
        Assert.Equal(error.StatusCode, request.GetTagItem("http.response.status_code"));
        Assert.Equal(type, Assert.Single(Measured("gen_ai.client.operation.duration", _model)).Tags["error.type"]);
        Assert.Equal(type, Assert.Single(Measured("baton.requests", _model)).Tags["baton.outcome"]);
        Assert.Empty(Measured("gen_ai.client.token.usage", _model));
        var recorded = Assert.Single(_recorder.Recent(10));
        Assert.Equal((error.StatusCode, error.Code, "a/m"), (recorded.Status, recorded.ErrorCode, recorded.Deployment));
        AssertNothingInFlight();
    }

    [Fact]
    public async Task A_stream_refused_before_its_first_chunk_ends_its_span_and_record_once()
    {
        _harness.Provider("a").Fail(503);

        var error = await Assert.ThrowsAsync<BatonException>(() => _harness.RunAsync(async () =>
        {
            await using var stream = await _harness.Engine.StreamAsync(EngineHarness.Request(_model, stream: true), CancellationToken.None);
            return stream.Route;
        }));

        var request = Assert.Single(Mine());
        Assert.Equal(true, request.GetTagItem("baton.stream"));
        Assert.Equal(ActivityStatusCode.Error, request.Status);
        Assert.Null(request.GetTagItem("gen_ai.response.time_to_first_chunk"));
        Assert.Empty(Measured("gen_ai.server.time_to_first_token", _model));
        Assert.Single(Measured("baton.requests", _model));
        var recorded = Assert.Single(_recorder.Recent(10));
        Assert.Equal((error.StatusCode, true), (recorded.Status, recorded.Stream));
        AssertNothingInFlight();
    }

    [Fact]
    public async Task A_stream_read_to_its_end_has_its_first_chunk_time_on_span_metric_and_record()
    {
        _harness.Provider("a").Answer(after: TimeSpan.FromMilliseconds(300));

        await _harness.RunAsync(async () =>
        {
            await using var stream = await _harness.Engine.StreamAsync(EngineHarness.Request(_model, stream: true), CancellationToken.None);
            _harness.Time.Advance(TimeSpan.FromMilliseconds(700));
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
            return stream.Route;
        });

        var request = Assert.Single(Mine());
        Assert.Equal(0.3, (double)request.GetTagItem("gen_ai.response.time_to_first_chunk")!, precision: 6);
        Assert.Equal("ok", request.GetTagItem("baton.outcome"));
        Assert.Equal(0.3, Assert.Single(Measured("gen_ai.server.time_to_first_token", _model)).Value, precision: 6);
        Assert.Equal(1, Assert.Single(Measured("gen_ai.client.operation.duration", _model)).Value, precision: 6);
        var recorded = Assert.Single(_recorder.Recent(10));
        Assert.Equal((200, 300d, 1000d), (recorded.Status, recorded.TimeToFirstTokenMs, recorded.LatencyMs));
        AssertNothingInFlight();
    }

    /// <summary>Every request that began has ended: the in-flight count went up and down once per request.</summary>
    private void AssertNothingInFlight()
    {
        var active = _measurements.Where(m => m.Instrument == "baton.requests.active").Select(m => m.Value).ToList();
        Assert.Equal(2 * _recorder.Recorded, active.Count);
        Assert.Equal(0, active.Sum());
    }

    /// <summary>This test's request spans (every engine in the process shares the source).</summary>
    private List<Activity> Mine() => _spans.Where(s => (string?)s.GetTagItem("gen_ai.request.model") == _model && s.Kind == ActivityKind.Internal).ToList();

    private List<(string Instrument, double Value, Dictionary<string, object?> Tags)> Measured(string instrument, string model) =>
        _measurements.Where(m => m.Instrument == instrument
            && (m.Tags.TryGetValue("gen_ai.request.model", out var asked) ? (string?)asked : (string?)m.Tags.GetValueOrDefault("baton.model")) == model).ToList();

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
        _telemetry.Dispose();
    }
}

/// <summary>Tests that decide alone which spans of the <c>Baton</c> source are sampled: run after the others, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SourceListenersCollection
{
    public const string Name = "Baton source sampling";
}
