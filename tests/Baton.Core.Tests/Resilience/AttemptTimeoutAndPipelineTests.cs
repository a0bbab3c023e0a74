using Baton.Core.Tests.TestSupport;
using Baton.Engine;
using Baton.Errors;
using Baton.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Resilience;

/// <summary>
/// The attempt timeout a provider is given when the request's total timeout ends first, and the deployment's retry
/// and breaker pipeline run for any result type, on a fake clock.
/// </summary>
public sealed class AttemptTimeoutAndPipelineTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    // The default: both 120 s, the total started first: the attempt's own timeout could never fire first.
    [InlineData(120, 120, 5, true)]
    [InlineData(200, 120, 0, true)]
    // Equal deadlines keep the attempt's own (which fires first is then up to the timers), as do shorter attempt timeouts.
    [InlineData(120, 120, 0, false)]
    [InlineData(115, 120, 5, false)]
    [InlineData(30, 120, 0, false)]
    [InlineData(30, 120, 95, true)]
    public void An_attempt_timeout_that_would_end_after_the_total_is_left_to_the_total(double attempt, double total, double elapsed, bool dropped)
    {
        var given = AttemptRunner.AttemptTimeout(TimeSpan.FromSeconds(attempt), TimeSpan.FromSeconds(total), TimeSpan.FromSeconds(elapsed));

        Assert.Equal(dropped ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(attempt), given);
    }

    [Fact]
    public void Without_a_total_timeout_the_attempt_keeps_its_own()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), AttemptRunner.AttemptTimeout(TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan, TimeSpan.FromHours(1)));
    }

    [Fact]
    public async Task A_hang_under_an_attempt_timeout_longer_than_the_total_ends_as_the_total_timeout_exactly()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.TotalTimeoutSeconds = 10;
        harness.Options.Resilience.AttemptTimeoutSeconds = 20;
        harness.Model("m", "a");
        harness.Provider("a").Hang();

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));

        Assert.Equal(504, error.StatusCode);
        Assert.Equal("total_timeout", error.Code);
        Assert.Equal(Start + TimeSpan.FromSeconds(10), harness.Time.GetUtcNow());
        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.Equal(Timeout.InfiniteTimeSpan, harness.Provider("a").Requests.Single().AttemptTimeout);
    }

    [Fact]
    public async Task An_attempt_timeout_shorter_than_the_total_is_given_to_the_provider_and_retried_on()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.TotalTimeoutSeconds = 100;
        harness.Options.Resilience.AttemptTimeoutSeconds = 3;
        harness.Options.Resilience.MaxRetries = 1;
        harness.Options.Resilience.BaseDelaySeconds = 0;
        harness.Model("m", "a");
        harness.Provider("a").Hang();

        var (result, elapsed) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(2, result.Route.Attempts);
        Assert.All(harness.Provider("a").Requests, r => Assert.Equal(TimeSpan.FromSeconds(3), r.AttemptTimeout));
        Assert.Equal(TimeSpan.FromSeconds(3), elapsed);
    }

    [Fact]
    public async Task The_pipeline_returns_a_value_type_result_and_retries_exactly_with_the_upstreams_delays()
    {
        var time = new TrackingTimeProvider(Start);
        var resilience = new DeploymentResilience(new ResilienceSettings { MaxRetries = 2 }, time);
        var calls = new List<DateTimeOffset>();

        var running = time.DriveAsync(() => resilience.ExecuteAsync(static (state, _) =>
        {
            state.Calls.Add(state.Time.GetUtcNow());
            return state.Calls.Count < 3
                ? ValueTask.FromException<int>(new BatonException(503, ErrorTypes.Upstream, "busy")
                {
                    UpstreamStatus = 503,
                    RetryAfter = TimeSpan.FromSeconds(state.Calls.Count * 2),
                })
                : ValueTask.FromResult(42);
        }, (Calls: calls, Time: time), CancellationToken.None).AsTask(), TimeSpan.FromSeconds(1));

        Assert.Equal(42, await running);
        Assert.Equal([Start, Start + TimeSpan.FromSeconds(2), Start + TimeSpan.FromSeconds(6)], calls);
        var health = resilience.Snapshot();
        Assert.Equal(3, health.Calls);
        Assert.Equal(0, health.ConsecutiveFailures);
    }

    [Fact]
    public async Task The_pipeline_throws_the_last_failure_after_its_retries()
    {
        var time = new TrackingTimeProvider(Start);
        var resilience = new DeploymentResilience(new ResilienceSettings { MaxRetries = 1, BaseDelay = TimeSpan.Zero }, time);
        var calls = 0;

        var running = time.DriveAsync(() => resilience.ExecuteAsync((_, _) =>
        {
            calls++;
            return ValueTask.FromException<string>(new BatonException(500, ErrorTypes.Upstream, "failure " + calls) { UpstreamStatus = 500 });
        }, 0, CancellationToken.None).AsTask(), TimeSpan.FromSeconds(1));
        var error = await Assert.ThrowsAsync<BatonException>(() => running);

        Assert.Equal(2, calls);
        Assert.Equal("failure 2", error.Message);
    }
}
