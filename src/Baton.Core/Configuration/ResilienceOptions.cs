namespace Baton.Configuration;

/// <summary>
/// Retries, timeouts and the circuit breaker. Set globally (<c>resilience</c>), per provider
/// (<c>providers.NAME.resilience</c>) and per model (<c>models.NAME.resilience</c>); for a deployment, each
/// key is taken from its model, else its provider, else the global section, else the default.
/// </summary>
public sealed class ResilienceOptions
{
    /// <summary>Retries on the same deployment after the first attempt, before handing over. Default 2.</summary>
    public int? MaxRetries { get; set; }

    /// <summary>The first backoff delay; it doubles with each retry, with jitter. Default 0.5 s.</summary>
    public double? BaseDelaySeconds { get; set; }

    /// <summary>The longest backoff delay Baton chooses itself. Default 10 s.</summary>
    public double? MaxDelaySeconds { get; set; }

    /// <summary>
    /// The longest <c>Retry-After</c> honoured by waiting on the same deployment. A longer one hands over to
    /// the next deployment at once (or reaches the caller with its <c>Retry-After</c>). Default 60 s.
    /// </summary>
    public double? MaxRetryAfterSeconds { get; set; }

    /// <summary>Bound of one upstream attempt. Default: the provider's <c>timeoutSeconds</c>, else <c>defaults.timeoutSeconds</c>.</summary>
    public double? AttemptTimeoutSeconds { get; set; }

    /// <summary>Bound of the whole request, all attempts and fallbacks included. Default 120 s.</summary>
    public double? TotalTimeoutSeconds { get; set; }

    /// <summary>For streams: the longest wait for the first chunk of content. Default 60 s.</summary>
    public double? FirstChunkTimeoutSeconds { get; set; }

    /// <summary>For streams: the longest silence between two chunks once the answer has started. Default 30 s.</summary>
    public double? IdleTimeoutSeconds { get; set; }

    /// <summary>How many times one streamed answer may be resumed after being cut. Default 2; 0 turns resuming off.</summary>
    public int? MaxStreamResumes { get; set; }

    /// <summary>When a deployment's circuit breaker opens and how long it stays open; each key left unset takes the wider level's value or the default.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();
}

/// <summary>When a deployment's breaker opens, and for how long it skips the deployment.</summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>The share of failed calls within the sampling window that opens the breaker. Default 0.5.</summary>
    public double? FailureRatio { get; set; }

    /// <summary>The fewest calls in the window before the ratio counts. Default 5.</summary>
    public int? MinimumThroughput { get; set; }

    /// <summary>The window over which the failure ratio is measured. Default 30 s.</summary>
    public double? SamplingDurationSeconds { get; set; }

    /// <summary>How long an open breaker skips the deployment before letting one probe through. Default 30 s.</summary>
    public double? BreakDurationSeconds { get; set; }
}
