using Baton.Monitoring;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Monitoring;

public sealed class RequestRecorderTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static CompletedRequest Request(FakeTimeProvider time, string model = "gpt-sim", int status = 200, double latency = 100,
        double? ttft = null, int input = 10, int output = 20, decimal? cost = 0.001m, string? key = "key_a", string cache = "bypass") => new()
        {
            Time = time.GetUtcNow(),
            KeyId = key,
            KeyName = key is null ? null : "name-" + key,
            RequestedModel = model,
            Model = model,
            Deployment = "sim/" + model,
            Status = status,
            ErrorCode = status >= 400 ? "boom" : null,
            LatencyMs = latency,
            TimeToFirstTokenMs = ttft,
            InputTokens = input,
            OutputTokens = output,
            CostUsd = cost,
            Cache = cache,
        };

    [Fact]
    public void Sums_requests_errors_tokens_and_cost_per_model_and_key()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time);
        recorder.Record(Request(time, "a", cost: 0.25m, key: "key_1"));
        recorder.Record(Request(time, "a", status: 503, input: 0, output: 0, cost: null, key: "key_1"));
        recorder.Record(Request(time, "b", cost: 0.5m, key: "key_2", cache: "hit"));
        recorder.Record(Request(time, "b", status: 499, key: null, cache: "miss"));

        var snapshot = recorder.Snapshot();

        Assert.Equal(4, snapshot.Window.Requests);
        Assert.Equal(1, snapshot.Window.Errors);
        Assert.Equal(1, snapshot.Window.Cancelled);
        // A client that left is neither an answer nor an error of the gateway: one error among three judged.
        Assert.Equal(0.3333, snapshot.Window.ErrorRate);
        Assert.Equal(30, snapshot.Window.InputTokens);
        Assert.Equal(60, snapshot.Window.OutputTokens);
        Assert.Equal(0.751m, snapshot.Window.CostUsd);
        Assert.Equal(0.5, snapshot.Window.CacheHitRatio);
        var a = Assert.Single(snapshot.Models, m => m.Name == "a");
        Assert.Equal((2L, 1L, 0.5), (a.Totals.Requests, a.Totals.Errors, a.Totals.ErrorRate));
        var key = Assert.Single(snapshot.Keys, k => k.Name == "key_1");
        Assert.Equal("name-key_1", key.Label);
        Assert.Equal(0.25m, key.Totals.CostUsd);
        Assert.Contains(snapshot.Keys, k => k.Name == RequestRecorder.NoKeySeries && k.Totals.Requests == 1);
        Assert.Equal(4, snapshot.Recorded);
    }

    [Fact]
    public void Percentiles_are_within_the_histograms_precision_and_only_of_answers()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time);
        for (var i = 1; i <= 100; i++)
        {
            recorder.Record(Request(time, latency: i * 10, ttft: i));
        }
        // Errors end at times unrelated to the model's speed: they must not move the percentiles.
        recorder.Record(Request(time, status: 500, latency: 60_000));

        var figures = recorder.Snapshot().Window;

        Assert.InRange(figures.LatencyP50Ms!.Value, 500 * 0.955, 500 * 1.045);
        Assert.InRange(figures.LatencyP95Ms!.Value, 950 * 0.955, 950 * 1.045);
        Assert.InRange(figures.TimeToFirstTokenP50Ms!.Value, 50 * 0.955, 50 * 1.045);
        Assert.InRange(figures.TimeToFirstTokenP95Ms!.Value, 95 * 0.955, 95 * 1.045);
    }

    [Fact]
    public void A_single_duration_is_its_own_percentile()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time);
        recorder.Record(Request(time, latency: 1234.5));

        var figures = recorder.Snapshot().Window;

        Assert.Equal(1234.5, figures.LatencyP50Ms);
        Assert.Equal(1234.5, figures.LatencyP95Ms);
        Assert.Null(figures.TimeToFirstTokenP50Ms);
    }

    [Fact]
    public void Tokens_per_second_count_generation_time_after_the_first_token_and_leave_cache_hits_out()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time);
        // 100 tokens in 1.5 s after a first token at 0.5 s, and 300 in 1.5 s without streaming: 400 tokens in 3 s.
        recorder.Record(Request(time, latency: 2000, ttft: 500, output: 100));
        recorder.Record(Request(time, latency: 1500, output: 300));
        recorder.Record(Request(time, latency: 1, output: 1000, cache: "hit"));

        Assert.Equal(133.3, recorder.Snapshot().Window.TokensPerSecond);
    }

    [Fact]
    public void The_live_figures_cover_the_last_sixty_seconds()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time);
        for (var i = 0; i < 30; i++)
        {
            recorder.Record(Request(time, status: i % 10 == 0 ? 502 : 200));
        }
        time.Advance(TimeSpan.FromSeconds(45));
        for (var i = 0; i < 30; i++)
        {
            recorder.Record(Request(time));
        }

        var live = recorder.Snapshot().Live;
        Assert.Equal((60L, 3L, 1.0, 0.05), (live.Requests, live.Errors, live.RequestsPerSecond, live.ErrorRate));

        time.Advance(TimeSpan.FromSeconds(30));
        live = recorder.Snapshot().Live;
        Assert.Equal((30L, 0L, 0.5), (live.Requests, live.Errors, live.RequestsPerSecond));

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(0, recorder.Snapshot().Live.Requests);
    }

    [Fact]
    public void Minutes_leave_the_window_after_an_hour_and_the_recent_figures_after_five_minutes()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time);
        recorder.Record(Request(time, model: "old"));
        time.Advance(TimeSpan.FromMinutes(10));
        recorder.Record(Request(time, model: "new"));
        recorder.Record(Request(time, model: "new"));

        var snapshot = recorder.Snapshot();
        Assert.Equal(60, snapshot.Minutes.Count);
        Assert.Equal(time.GetUtcNow().AddMinutes(-59), snapshot.Minutes[0].Start);
        Assert.Equal(1, snapshot.Minutes[^11].Figures.Requests);
        Assert.Equal(2, snapshot.Minutes[^1].Figures.Requests);
        Assert.Equal(3, snapshot.Window.Requests);
        Assert.Equal(2, snapshot.Recent.Requests);
        var old = Assert.Single(snapshot.Models, m => m.Name == "old");
        Assert.Equal(new SeriesPoint(1, 30, 0.001m), old.Minutes[^11]);
        Assert.Equal(2, recorder.Snapshot(minutes: 5).Window.Requests);

        // Fifty minutes later the first request is more than an hour old; the slot it used is reused.
        time.Advance(TimeSpan.FromMinutes(50));
        recorder.Record(Request(time, model: "newer"));
        snapshot = recorder.Snapshot();
        Assert.Equal(3, snapshot.Window.Requests);
        Assert.DoesNotContain(snapshot.Models, m => m.Name == "old");
        Assert.Equal(1, snapshot.Minutes[^1].Figures.Requests);

        time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, recorder.Snapshot().Window.Requests);
        Assert.Empty(recorder.Snapshot().Models);
    }

    [Fact]
    public void The_last_requests_are_a_bounded_ring_newest_first()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time, recentCapacity: 5);
        for (var i = 0; i < 12; i++)
        {
            recorder.Record(Request(time, latency: i));
        }

        var recent = recorder.Recent(50);

        Assert.Equal(new double[] { 11, 10, 9, 8, 7 }, recent.Select(r => r.LatencyMs));
        Assert.Equal(new double[] { 11, 10 }, recorder.Recent(2).Select(r => r.LatencyMs));
        Assert.Equal(12, recorder.Recorded);
        Assert.Empty(new RequestRecorder(time).Recent(50));
    }

    [Fact]
    public void Models_and_keys_past_the_cap_of_a_minute_share_one_series()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time);
        for (var i = 0; i < RequestRecorder.MaxSeriesPerMinute + 25; i++)
        {
            recorder.Record(Request(time, model: $"model-{i}", key: $"key_{i}"));
        }

        var snapshot = recorder.Snapshot();

        Assert.Equal(RequestRecorder.MaxSeriesPerMinute + 1, snapshot.Models.Count);
        Assert.Equal(25, Assert.Single(snapshot.Models, m => m.Name == RequestRecorder.OtherSeries).Totals.Requests);
        Assert.Equal(RequestRecorder.MaxSeriesPerMinute + 1, snapshot.Keys.Count);
        var other = Assert.Single(snapshot.Keys, k => k.Name == RequestRecorder.OtherSeries);
        Assert.Null(other.Label);
        Assert.Equal(RequestRecorder.MaxSeriesPerMinute + 25, snapshot.Window.Requests);
    }

    [Fact]
    public void A_request_older_than_its_minutes_slot_is_kept_in_the_ring_only()
    {
        var time = new FakeTimeProvider(Start);
        var recorder = new RequestRecorder(time);
        recorder.Record(Request(time));
        var late = Request(time) with { Time = Start.AddMinutes(-60) };
        recorder.Record(late);

        Assert.Equal(1, recorder.Snapshot().Window.Requests);
        Assert.Same(late, recorder.Recent(1)[0]);
    }

    [Fact]
    public void The_histogram_buckets_stay_within_their_precision()
    {
        foreach (var value in new[] { 0.1, 0.5, 1, 7.3, 42, 999, 12_345, 600_000 })
        {
            var histogram = new LatencyHistogram();
            histogram.Add(value);
            histogram.Add(value * 1.2);
            histogram.Add(value * 0.8);
            var median = histogram.Percentile(0.5)!.Value;
            Assert.InRange(median, value * 0.955, value * 1.045);
        }
        Assert.Null(new LatencyHistogram().Percentile(0.5));
        Assert.Equal(LatencyHistogram.BucketCount - 1, LatencyHistogram.IndexOf(double.MaxValue));
        Assert.Equal(0, LatencyHistogram.IndexOf(0));
    }
}
