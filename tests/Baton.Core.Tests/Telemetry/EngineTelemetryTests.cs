using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Telemetry;

namespace Baton.Core.Tests.Telemetry;

/// <summary>Rate-limit waits and refusals, and retries, as span events and metrics, on a fake clock.</summary>
public sealed class EngineTelemetryTests : IDisposable
{
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly BatonTelemetry _telemetry = new(new ObservabilityOptions());
    private readonly EngineHarness _harness = new();
    private readonly string _model = "engine-" + Guid.NewGuid().ToString("N")[..8];

    public EngineTelemetryTests()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BatonTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_activities);
        _meters = _measurements.Listen(instrument => ReferenceEquals(instrument.Meter, _telemetry.Meter));
        _harness.Telemetry = _telemetry;
    }

    [Fact]
    public async Task A_request_that_queues_for_a_rate_limit_has_a_wait_event_and_is_counted()
    {
        _harness.Model(_model, "a");
        _harness.Limits("a", requestsPerMinute: 1, maxQueueWaitSeconds: 120);
        _harness.Options.Resilience.TotalTimeoutSeconds = 300;
        (await _harness.CompleteAsync(EngineHarness.Request(_model))).Result.Dispose();

        var (result, elapsed) = await _harness.CompleteAsync(EngineHarness.Request(_model));
        result.Dispose();

        var spans = Mine();
        Assert.Equal(2, spans.Count);
        var waited = Assert.Single(spans.SelectMany(s => s.Events), e => e.Name == "baton.rate_limit.wait");
        Assert.Equal("a/m", waited.Tags.Single(t => t.Key == "baton.deployment").Value);
        Assert.Equal(elapsed.TotalMilliseconds, (double)waited.Tags.Single(t => t.Key == "baton.wait_ms").Value!, precision: 0);
        var counted = Assert.Single(Measured("baton.rate_limit.waits"));
        Assert.Equal("a/m", counted.Tags["baton.deployment"]);
        Assert.Empty(Measured("baton.rate_limit.refusals"));
    }

    [Fact]
    public async Task A_request_refused_by_a_rate_limit_has_a_refusal_event_and_outcome()
    {
        _harness.Model(_model, "a");
        _harness.Limits("a", requestsPerMinute: 1, maxQueueWaitSeconds: 5);
        (await _harness.CompleteAsync(EngineHarness.Request(_model))).Result.Dispose();

        var error = await Assert.ThrowsAsync<BatonException>(() => _harness.CompleteAsync(EngineHarness.Request(_model)));

        Assert.Equal(429, error.StatusCode);
        var refused = Assert.Single(Mine(), s => s.Status == ActivityStatusCode.Error);
        Assert.Single(refused.Events, e => e.Name == "baton.rate_limit.refused");
        Assert.Equal("rate_limited", refused.GetTagItem("baton.outcome"));
        Assert.Equal("rate_limited", refused.GetTagItem("error.type"));
        Assert.Equal(429, refused.GetTagItem("http.response.status_code"));
        Assert.Single(Measured("baton.rate_limit.refusals"));
        Assert.Equal(["ok", "rate_limited"], Measured("baton.requests").Select(m => (string)m.Tags["baton.outcome"]!).Order().ToArray());
    }

    [Fact]
    public async Task A_retry_is_a_second_attempt_span_on_the_same_deployment_and_is_counted()
    {
        _harness.Model(_model, "a");
        _harness.Options.Resilience.MaxRetries = 2;
        _harness.Provider("a").Fail(503).Answer();

        var (result, _) = await _harness.CompleteAsync(EngineHarness.Request(_model));
        result.Dispose();

        var request = Assert.Single(Mine(), s => s.DisplayName == "chat " + _model);
        var attempts = _spans.Where(s => s.ParentSpanId == request.SpanId).OrderBy(s => (int)s.GetTagItem("baton.attempt")!).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("a/m", a.GetTagItem("baton.deployment")));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(503, attempts[0].GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, attempts[1].Status);
        Assert.Equal(false, request.GetTagItem("baton.fallback"));
        var retry = Assert.Single(Measured("baton.retries"));
        Assert.Equal("a/m", retry.Tags["baton.deployment"]);
        Assert.NotNull(retry.Tags["error.type"]);
        Assert.Empty(Measured("baton.fallbacks"));
    }

    [Fact]
    public async Task Spans_carry_each_attribute_once_and_none_without_a_value_request_after_request()
    {
        // Attributes are added to new spans without a search, and attempt spans share what their deployment built once:
        // a second request on the same deployment must still get its own, complete and unrepeated, attributes.
        _harness.Model(_model, "a");
        _harness.Options.Resilience.MaxRetries = 2;
        _harness.Provider("a").Fail(503).Answer().Answer();

        for (var i = 0; i < 2; i++)
        {
            var (result, _) = await _harness.CompleteAsync(EngineHarness.Request(_model));
            result.Dispose();
        }

        var requests = Mine();
        Assert.Equal(2, requests.Count);
        var attempts = _spans.Where(s => requests.Any(r => r.SpanId == s.ParentSpanId)).ToList();
        Assert.Equal(3, attempts.Count);
        foreach (var span in requests.Concat(attempts))
        {
            var keys = span.TagObjects.Select(t => t.Key).ToList();
            Assert.Equal(keys.Count, keys.Distinct().Count());
            Assert.All(span.TagObjects, t => Assert.NotNull(t.Value));
            Assert.Null(span.GetTagItem("baton.key_id"));
            Assert.Null(span.GetTagItem("baton.tier"));
        }
        Assert.All(attempts, a =>
        {
            Assert.Equal("chat m", a.DisplayName);
            Assert.Equal(("chat", "m", "a/m"), ((string?)a.GetTagItem("gen_ai.operation.name"), (string?)a.GetTagItem("gen_ai.request.model"),
                (string?)a.GetTagItem("baton.deployment")));
        });
        Assert.Equal([1, 1, 2], attempts.Select(a => (int)a.GetTagItem("baton.attempt")!).Order());
        Assert.Equal([1, 2], requests.Select(r => (int)r.GetTagItem("baton.attempts")!).Order());
        Assert.All(requests, r => Assert.Equal(false, r.GetTagItem("baton.stream")));
    }

    /// <summary>This test's request spans (every engine in the process shares the source).</summary>
    private List<Activity> Mine() => _spans.Where(s => (string?)s.GetTagItem("gen_ai.request.model") == _model && s.Kind == ActivityKind.Internal).ToList();

    private List<(string Instrument, double Value, Dictionary<string, object?> Tags)> Measured(string instrument) =>
        _measurements.Where(m => m.Instrument == instrument).ToList();

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
        _telemetry.Dispose();
    }
}
