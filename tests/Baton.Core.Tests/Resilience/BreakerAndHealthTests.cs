using Baton.Core.Tests.TestSupport;
using Baton.Resilience;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;

namespace Baton.Core.Tests.Resilience;

/// <summary>Circuit breakers and health states per deployment, on a fake clock.</summary>
public sealed class BreakerAndHealthTests
{
    private static EngineHarness BreakerHarness()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Options.Resilience.CircuitBreaker.MinimumThroughput = 2;
        harness.Options.Resilience.CircuitBreaker.FailureRatio = 0.5;
        harness.Options.Resilience.CircuitBreaker.BreakDurationSeconds = 30;
        harness.Model("m", "a", "b");
        return harness;
    }

    [Fact]
    public async Task An_open_breaker_skips_its_deployment_without_calling_it_then_lets_a_probe_through()
    {
        var harness = BreakerHarness();
        harness.Provider("a").Fail(503, times: 2);

        await harness.CompleteAsync(EngineHarness.Request("m"));
        await harness.CompleteAsync(EngineHarness.Request("m"));
        var a = harness.Engine.Catalog.Deployments.Single(d => d.Id == "a/m");
        Assert.True(a.Resilience.IsOpen);
        Assert.Equal(HealthState.Unavailable, a.Resilience.Snapshot().State);
        Assert.Equal("open", a.Resilience.Snapshot().BreakerState);

        var (skipped, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal(2, harness.Provider("a").Calls);
        Assert.Equal("b/m", skipped.Route.Deployment);
        Assert.Equal(1, skipped.Route.Attempts);

        harness.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.False(a.Resilience.IsOpen);
        var (probed, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal(3, harness.Provider("a").Calls);
        Assert.Equal("a/m", probed.Route.Deployment);
        Assert.Equal(CircuitState.Closed, a.Resilience.BreakerState);
        Assert.Equal(HealthState.Healthy, a.Resilience.Snapshot().State);
    }

    [Fact]
    public async Task Rate_limiting_and_invalid_requests_do_not_open_the_breaker()
    {
        var harness = BreakerHarness();
        // Without a Retry-After the deployment is not paused, so each request asks it again.
        harness.Provider("a").Fail(429, times: 4).Fail(400).Fail(400);

        for (var i = 0; i < 4; i++)
        {
            await harness.CompleteAsync(EngineHarness.Request("m"));
        }
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<Baton.Errors.BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));
        }

        Assert.Equal(6, harness.Provider("a").Calls);
        Assert.Equal(CircuitState.Closed, harness.Engine.Catalog.Deployments.Single(d => d.Id == "a/m").Resilience.BreakerState);
    }

    [Fact]
    public async Task When_every_breaker_is_open_the_caller_is_told_when_to_come_back()
    {
        var harness = BreakerHarness();
        harness.Provider("a").Fail(500, times: 10);
        harness.Provider("b").Fail(500, times: 10);
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<Baton.Errors.BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));
        }

        var error = await Assert.ThrowsAsync<Baton.Errors.BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));

        Assert.Equal(503, error.StatusCode);
        Assert.Equal("circuit_open", error.Code);
        Assert.Equal(TimeSpan.FromSeconds(30), error.RetryAfter);
        Assert.Equal(2, harness.Provider("a").Calls);
    }

    [Fact]
    public void Health_moves_through_seed_003s_states()
    {
        var health = new DeploymentHealth(new FakeTimeProvider());
        Assert.Equal(HealthState.Unknown, health.Snapshot(CircuitState.Closed).State);

        health.RecordSuccess(TimeSpan.FromMilliseconds(100));
        Assert.Equal(HealthState.Healthy, health.Snapshot(CircuitState.Closed).State);

        health.RecordFailure("first");
        health.RecordFailure("second");
        var degraded = health.Snapshot(CircuitState.Closed);
        Assert.Equal(HealthState.Degraded, degraded.State);
        Assert.Equal("second", degraded.LastError);

        health.RecordFailure("third");
        Assert.Equal(HealthState.Unavailable, health.Snapshot(CircuitState.Closed).State);

        health.RecordSuccess(TimeSpan.FromMilliseconds(300));
        var recovered = health.Snapshot(CircuitState.Closed);
        Assert.Equal(HealthState.Healthy, recovered.State);
        Assert.Equal(0.6, recovered.ErrorRate, 3);
        Assert.Equal(5, recovered.Calls);
        Assert.Equal(HealthState.Unavailable, health.Snapshot(CircuitState.Open).State);
        Assert.Equal(HealthState.Degraded, health.Snapshot(CircuitState.HalfOpen).State);
    }

    [Fact]
    public void Latency_percentiles_come_from_recent_successes()
    {
        var health = new DeploymentHealth(new FakeTimeProvider());
        for (var ms = 1; ms <= 100; ms++)
        {
            health.RecordSuccess(TimeSpan.FromMilliseconds(ms));
        }

        var snapshot = health.Snapshot(CircuitState.Closed);
        Assert.Equal(50, snapshot.LatencyP50Ms);
        Assert.Equal(95, snapshot.LatencyP95Ms);
    }

    [Fact]
    public async Task A_probe_checks_each_deployment_and_records_the_outcome()
    {
        var harness = BreakerHarness();
        harness.Provider("a").Fail(401, message: "bad key");
        var report = new HealthReport(harness.Engine.Catalog, harness.Time);

        var results = await report.CheckAsync(probe: true, CancellationToken.None);

        var a = results.Single(r => r.Deployment == "a/m");
        Assert.False(a.Probe!.Ok);
        Assert.Contains("bad key", a.Probe.Error);
        Assert.Equal(HealthState.Degraded, a.Health.State);
        var b = results.Single(r => r.Deployment == "b/m");
        Assert.True(b.Probe!.Ok);
        Assert.Equal(["m"], b.Models);
        Assert.Equal("degraded", HealthReport.Overall(results));
    }
}
