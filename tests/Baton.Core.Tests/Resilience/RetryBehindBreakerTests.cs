using Baton.Errors;
using Baton.Resilience;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;

namespace Baton.Core.Tests.Resilience;

/// <summary>
/// A deployment's calls go through its breaker one by one, and only a failed call reaches the retry strategy: each
/// retry is a new call through the breaker, counted once in the health, and an open breaker refuses the next retry.
/// </summary>
public sealed class RetryBehindBreakerTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Retry-After zero: the retry strategy retries at once, so no clock has to move.
    private static BatonException Passing() => new(503, ErrorTypes.Upstream, "upstream busy") { RetryAfter = TimeSpan.Zero };

    [Fact]
    public async Task A_call_that_succeeds_first_time_is_made_once()
    {
        var resilience = new DeploymentResilience(new ResilienceSettings(), new FakeTimeProvider(Start));
        var calls = 0;

        var answer = await resilience.ExecuteAsync((_, _) => { calls++; return ValueTask.FromResult("ok"); }, 0, CancellationToken.None);

        Assert.Equal("ok", answer);
        Assert.Equal(1, calls);
        Assert.Equal(1, resilience.Snapshot().Calls);
    }

    [Fact]
    public async Task A_failed_call_is_retried_and_every_call_is_counted_once()
    {
        var resilience = new DeploymentResilience(new ResilienceSettings { MaxRetries = 3 }, new FakeTimeProvider(Start));
        var calls = 0;

        var answer = await resilience.ExecuteAsync(async (_, _) =>
        {
            await Task.Yield();
            return ++calls < 3 ? throw Passing() : "third";
        }, 0, CancellationToken.None);

        Assert.Equal("third", answer);
        Assert.Equal(3, calls);
        var health = resilience.Snapshot();
        Assert.Equal(3, health.Calls);
        Assert.Equal(0, health.ConsecutiveFailures);
    }

    [Fact]
    public async Task The_last_failure_is_thrown_once_the_retries_are_spent()
    {
        var resilience = new DeploymentResilience(new ResilienceSettings { MaxRetries = 2, MinimumThroughput = 100 }, new FakeTimeProvider(Start));
        var calls = 0;

        var error = await Assert.ThrowsAsync<BatonException>(async () => await resilience.ExecuteAsync<int, string>(
            (_, _) => { calls++; throw new BatonException(503, ErrorTypes.Upstream, $"failure {calls}") { RetryAfter = TimeSpan.Zero }; }, 0, CancellationToken.None));

        Assert.Equal(3, calls);
        Assert.Equal("failure 3", error.Message);
        Assert.Equal(3, resilience.Snapshot().ConsecutiveFailures);
    }

    [Fact]
    public async Task Without_retries_a_failure_is_thrown_after_one_call()
    {
        var resilience = new DeploymentResilience(new ResilienceSettings { MaxRetries = 0 }, new FakeTimeProvider(Start));
        var calls = 0;

        await Assert.ThrowsAsync<BatonException>(async () => await resilience.ExecuteAsync<int, string>(
            (_, _) => { calls++; throw Passing(); }, 0, CancellationToken.None));

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_breaker_opened_by_the_failed_calls_refuses_the_next_retry()
    {
        var settings = new ResilienceSettings { MaxRetries = 5, MinimumThroughput = 2, FailureRatio = 0.5 };
        var resilience = new DeploymentResilience(settings, new FakeTimeProvider(Start));
        var calls = 0;

        await Assert.ThrowsAsync<BrokenCircuitException>(async () => await resilience.ExecuteAsync<int, string>(
            (_, _) => { calls++; throw Passing(); }, 0, CancellationToken.None));

        // Two failures reach the breaker's minimum throughput at a ratio of 1: it opens, and the third call never happens.
        Assert.Equal(2, calls);
        Assert.True(resilience.IsOpen);
    }

    [Fact]
    public async Task A_call_let_through_before_the_breaker_opened_keeps_its_answer_and_does_not_close_it()
    {
        var settings = new ResilienceSettings { MaxRetries = 0, MinimumThroughput = 2, FailureRatio = 0.5 };
        var resilience = new DeploymentResilience(settings, new FakeTimeProvider(Start));
        var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowCalls = 0;

        // The slow call is let through while the breaker is closed; two failures open it while that call still waits.
        var slow = resilience.ExecuteAsync<int, string>(async (_, _) => { slowCalls++; return await answer.Task; }, 0, CancellationToken.None);
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<BatonException>(async () => await resilience.ExecuteAsync<int, string>(
                (_, _) => throw Passing(), 0, CancellationToken.None));
        }
        Assert.True(resilience.IsOpen);
        answer.SetResult("late but whole");

        // The call happened: its answer is the caller's, not a refusal; and it was no probe, so the breaker stays open.
        Assert.Equal("late but whole", await slow);
        Assert.Equal(1, slowCalls);
        Assert.True(resilience.IsOpen);
        await Assert.ThrowsAsync<BrokenCircuitException>(async () => await resilience.ExecuteAsync<int, string>(
            (_, _) => ValueTask.FromResult("never"), 0, CancellationToken.None));
    }
}
