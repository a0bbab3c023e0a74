using Baton.Configuration;

namespace Baton.Resilience;

/// <summary>The retry, timeout and breaker settings in force for one deployment, every key resolved.</summary>
public sealed record ResilienceSettings
{
    /// <summary>Retries on the same deployment after the first attempt. Default 2.</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>The first backoff delay, doubled with each retry, with jitter. Default 0.5 s.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest backoff delay Baton chooses itself. Default 10 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest <c>Retry-After</c> waited for on the same deployment; a longer one hands over at once. Default 60 s.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Bound of one upstream attempt. Default: the provider's timeout, else <c>defaults.timeoutSeconds</c> (120 s).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Bound of a whole request, every attempt and fallback included. Default 120 s.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>For streams: the longest wait for the first chunk of content. Default 60 s.</summary>
    public TimeSpan FirstChunkTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>For streams: the longest silence between two chunks once the answer has started. Default 30 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times one streamed answer may be resumed after being cut; 0 never resumes. Default 2.</summary>
    public int MaxStreamResumes { get; init; } = 2;

    /// <summary>The share of failed calls within <see cref="SamplingDuration"/> that opens the breaker. Default 0.5.</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>The fewest calls within <see cref="SamplingDuration"/> before <see cref="FailureRatio"/> counts. Default 5.</summary>
    public int MinimumThroughput { get; init; } = 5;

    /// <summary>The window over which <see cref="FailureRatio"/> is measured. Default 30 s.</summary>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open breaker skips the deployment before letting one probe through. Default 30 s.</summary>
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
