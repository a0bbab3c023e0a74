using Baton.Providers;

namespace Baton.RateLimiting;

/// <summary>
/// Permission for one call to a deployment: a request and an estimate of tokens taken from its buckets,
/// and a concurrency slot held until the lease is disposed (for a stream, when the stream ends).
/// </summary>
public sealed class RateLimitLease : IDisposable
{
    private readonly DeploymentRateLimiter _limiter;
    private int _attempts;
    private int _settled;
    private int _disposed;

    internal RateLimitLease(DeploymentRateLimiter limiter, int estimatedTokens)
    {
        _limiter = limiter;
        EstimatedTokens = estimatedTokens;
    }

    /// <summary>The shared calls-in-flight lease this call holds, given back with the slot; null when the slot is counted in this process only.</summary>
    internal Admission.ConcurrencyLease? Shared { get; init; }

    /// <summary>The tokens charged up front.</summary>
    public int EstimatedTokens { get; }

    /// <summary>The deployment's limiter the lease was taken from, and gives its slot back to.</summary>
    public DeploymentRateLimiter Limiter => _limiter;

    /// <summary>Called before each upstream attempt: the first was paid for by the lease, each retry costs one more request.</summary>
    public void CountAttempt()
    {
        if (Interlocked.Increment(ref _attempts) > 1)
        {
            _limiter.ChargeRetry();
        }
    }

    /// <summary>
    /// Ends a call that answered: learns from the upstream's headers, corrects the token charge with the
    /// reported usage (kept as estimated when none was reported), and frees the concurrency slot.
    /// </summary>
    public void Complete(TokenUsage? usage, UpstreamRateLimit? upstream)
    {
        _limiter.Observe(upstream);
        if (usage is { IsEmpty: false } reported)
        {
            _limiter.Settle(this, reported.TotalTokens);
        }
        Dispose();
    }

    /// <summary>Frees the concurrency slot; the token charge stays as estimated unless settled.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _limiter.Release(Shared);
        }
    }

    internal bool MarkSettled() => Interlocked.Exchange(ref _settled, 1) == 0;
}
