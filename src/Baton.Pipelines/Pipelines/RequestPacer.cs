using Baton.RateLimiting;

namespace Baton.Pipelines;

/// <summary>
/// Spaces a pipeline's calls to at most N a minute across all its runs (OpenRouter's free tier allows about
/// ten), waiting on the injected clock rather than letting the upstream answer 429. Each caller takes its
/// token at once, letting the bucket go into debt, and waits until that debt is paid: callers queue in order.
/// </summary>
internal sealed class RequestPacer(int requestsPerMinute, TimeProvider time)
{
    private readonly TokenBucket _bucket = new(requestsPerMinute, time.GetUtcNow());
    private readonly Lock _lock = new();

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        TimeSpan wait;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            wait = _bucket.TimeUntil(1, now);
            _bucket.Take(1, now);
        }
        return wait > TimeSpan.Zero ? Task.Delay(wait, time, cancellationToken) : Task.CompletedTask;
    }
}
