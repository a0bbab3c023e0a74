using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Monitoring;
using Baton.Providers;

namespace Baton.Core.Tests.Monitoring;

/// <summary>What the engine reports to the recorder as requests end, on a fake clock.</summary>
public sealed class EngineRecordingTests
{
    private static EngineHarness Harness(out RequestRecorder recorder)
    {
        var harness = new EngineHarness();
        recorder = new RequestRecorder(harness.Time);
        harness.Recorder = recorder;
        harness.Options.Resilience = new ResilienceOptions { MaxRetries = 0, MaxStreamResumes = 0 };
        harness.Model("m", "a");
        return harness;
    }

    [Fact]
    public async Task An_answer_is_recorded_with_its_route_latency_and_usage()
    {
        var harness = Harness(out var recorder);
        harness.Provider("a").Answer(after: TimeSpan.FromSeconds(2), usage: TokenUsage.Of(40, 12));
        var request = EngineHarness.Request("m");

        await harness.RunAsync(async () =>
        {
            using var result = await harness.Engine.CompleteAsync(request, CancellationToken.None);
            return result.Route;
        });

        var recorded = Assert.Single(recorder.Recent(10));
        Assert.Equal(("m", "m", "a/m", 200, false), (recorded.RequestedModel, recorded.Model, recorded.Deployment, recorded.Status, recorded.Stream));
        Assert.Equal((40, 12), (recorded.InputTokens, recorded.OutputTokens));
        Assert.Equal(2000, recorded.LatencyMs);
        Assert.Null(recorded.TimeToFirstTokenMs);
        Assert.Equal(1, recorded.Attempts);
        Assert.Equal(harness.Time.GetUtcNow(), recorded.Time);
    }

    [Fact]
    public async Task A_failure_is_recorded_with_its_status_and_the_deployment_tried_and_still_thrown()
    {
        var harness = Harness(out var recorder);
        harness.Provider("a").Fail(503);

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.RunAsync(async () =>
        {
            using var result = await harness.Engine.CompleteAsync(EngineHarness.Request("m"), CancellationToken.None);
            return result.Route;
        }));

        var recorded = Assert.Single(recorder.Recent(10));
        Assert.Equal(error.StatusCode, recorded.Status);
        Assert.Equal(error.Code, recorded.ErrorCode);
        Assert.Equal("a/m", recorded.Deployment);
        Assert.True(recorded.IsError);
        Assert.Equal(1, recorder.Snapshot().Window.Errors);
    }

    [Fact]
    public async Task An_unknown_model_is_recorded_as_the_error_it_is()
    {
        var harness = Harness(out var recorder);

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.Engine.CompleteAsync(EngineHarness.Request("nope"), CancellationToken.None));

        var recorded = Assert.Single(recorder.Recent(10));
        Assert.Equal((error.StatusCode, "nope", (string?)null), (recorded.Status, recorded.Model, recorded.Deployment));
    }

    [Fact]
    public async Task A_stream_read_to_the_end_is_recorded_when_disposed_with_its_time_to_first_token()
    {
        var harness = Harness(out var recorder);
        harness.Provider("a").Answer(after: TimeSpan.FromMilliseconds(300));

        await harness.RunAsync(async () =>
        {
            await using var stream = await harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None);
            Assert.Empty(recorder.Recent(10));
            harness.Time.Advance(TimeSpan.FromMilliseconds(700));
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
            return stream.Route;
        });

        var recorded = Assert.Single(recorder.Recent(10));
        Assert.Equal((200, true, "a/m"), (recorded.Status, recorded.Stream, recorded.Deployment));
        Assert.Equal(300, recorded.TimeToFirstTokenMs);
        Assert.Equal(1000, recorded.LatencyMs);
        Assert.True(recorded.OutputTokens > 0);
    }

    [Fact]
    public async Task A_stream_its_reader_left_is_recorded_as_499_and_not_as_an_error()
    {
        var harness = Harness(out var recorder);

        await harness.RunAsync(async () =>
        {
            await using var stream = await harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None);
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
                break;
            }
            return stream.Route;
        });

        var recorded = Assert.Single(recorder.Recent(10));
        Assert.Equal(CompletedRequest.ClientClosedRequest, recorded.Status);
        Assert.True(recorded.IsCancelled);
        var figures = recorder.Snapshot().Window;
        Assert.Equal((1L, 0L, 1L), (figures.Requests, figures.Errors, figures.Cancelled));
    }

    [Fact]
    public async Task A_stream_cut_for_good_is_recorded_with_the_error_it_ended_with()
    {
        var harness = Harness(out var recorder);
        harness.Provider("a").StreamThenBreak(2);

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.RunAsync(async () =>
        {
            await using var stream = await harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None);
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
            return stream.Route;
        }));

        var recorded = Assert.Single(recorder.Recent(10));
        Assert.Equal((error.StatusCode, error.Code), (recorded.Status, recorded.ErrorCode));
        Assert.True(recorded.IsError);
    }
}
