namespace Baton.Simulation;

/// <summary>Waits as a real model would: latency, then time to first token, then a steady token rate.</summary>
public sealed class SimulationPacer(SimulatorBehavior behavior, TimeProvider time)
{
    public Task BeforeFirstTokenAsync(CancellationToken cancellationToken) =>
        DelayAsync(behavior.LatencyMs + behavior.TimeToFirstTokenMs, cancellationToken);

    public Task BetweenTokensAsync(CancellationToken cancellationToken) =>
        behavior.TokensPerSecond > 0 ? DelayAsync(1000.0 / behavior.TokensPerSecond, cancellationToken) : Task.CompletedTask;

    /// <summary>The whole answer's time, for answers that are not streamed.</summary>
    public Task WholeAnswerAsync(int tokens, CancellationToken cancellationToken)
    {
        var pacing = behavior.TokensPerSecond > 0 ? Math.Max(0, tokens - 1) * 1000.0 / behavior.TokensPerSecond : 0;
        return DelayAsync(behavior.LatencyMs + behavior.TimeToFirstTokenMs + pacing, cancellationToken);
    }

    public Task HangAsync(CancellationToken cancellationToken) => Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);

    private Task DelayAsync(double milliseconds, CancellationToken cancellationToken) =>
        milliseconds <= 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromMilliseconds(milliseconds), time, cancellationToken);
}
