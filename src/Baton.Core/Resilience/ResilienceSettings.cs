using Baton.Configuration;

namespace Baton.Resilience;

/// <summary>The retry, timeout and breaker settings in force for one deployment, every key resolved.</summary>
public sealed record ResilienceSettings
{
    public int MaxRetries { get; init; } = 2;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public TimeSpan FirstChunkTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public int MaxStreamResumes { get; init; } = 2;

    public double FailureRatio { get; init; } = 0.5;

    public int MinimumThroughput { get; init; } = 5;

    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Takes each key from the most specific section that sets it (model, then provider, then global).</summary>
    public static ResilienceSettings Resolve(TimeSpan attemptTimeout, params ResilienceOptions?[] mostSpecificFirst)
    {
        T? Pick<T>(Func<ResilienceOptions, T?> key) where T : struct =>
            mostSpecificFirst.Select(o => o is null ? null : key(o)).FirstOrDefault(v => v is not null);
        T? PickBreaker<T>(Func<CircuitBreakerOptions, T?> key) where T : struct =>
            mostSpecificFirst.Select(o => o is null ? null : key(o.CircuitBreaker)).FirstOrDefault(v => v is not null);

        var defaults = new ResilienceSettings();
        return new ResilienceSettings
        {
            MaxRetries = Pick(o => o.MaxRetries) ?? defaults.MaxRetries,
            BaseDelay = Seconds(Pick(o => o.BaseDelaySeconds)) ?? defaults.BaseDelay,
            MaxDelay = Seconds(Pick(o => o.MaxDelaySeconds)) ?? defaults.MaxDelay,
            MaxRetryAfter = Seconds(Pick(o => o.MaxRetryAfterSeconds)) ?? defaults.MaxRetryAfter,
            AttemptTimeout = Seconds(Pick(o => o.AttemptTimeoutSeconds)) ?? attemptTimeout,
            TotalTimeout = Seconds(Pick(o => o.TotalTimeoutSeconds)) ?? defaults.TotalTimeout,
            FirstChunkTimeout = Seconds(Pick(o => o.FirstChunkTimeoutSeconds)) ?? defaults.FirstChunkTimeout,
            IdleTimeout = Seconds(Pick(o => o.IdleTimeoutSeconds)) ?? defaults.IdleTimeout,
            MaxStreamResumes = Pick(o => o.MaxStreamResumes) ?? defaults.MaxStreamResumes,
            FailureRatio = PickBreaker(b => b.FailureRatio) ?? defaults.FailureRatio,
            MinimumThroughput = PickBreaker(b => b.MinimumThroughput) ?? defaults.MinimumThroughput,
            SamplingDuration = Seconds(PickBreaker(b => b.SamplingDurationSeconds)) ?? defaults.SamplingDuration,
            BreakDuration = Seconds(PickBreaker(b => b.BreakDurationSeconds)) ?? defaults.BreakDuration,
        };
    }

    private static TimeSpan? Seconds(double? seconds) => seconds is double s ? TimeSpan.FromSeconds(s) : null;
}
