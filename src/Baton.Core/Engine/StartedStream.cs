using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;

namespace Baton.Engine;

/// <summary>
/// A provider stream that has delivered its first chunk, with the watch that bounds the silence between
/// chunks on the injected clock. Owns the stream and its enumerator.
/// </summary>
public sealed class StartedStream : IAsyncDisposable
{
    private readonly ProviderStream _stream;
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _caller;
    private RateLimitLease? _lease;
    private int _disposed;

    private StartedStream(ProviderStream stream, TimeProvider time, CancellationToken caller)
    {
        _stream = stream;
        _caller = caller;
        _timer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(caller, _timer.Token);
        Chunks = stream.ReadAsync(_linked.Token).GetAsyncEnumerator(_linked.Token);
    }

    public IAsyncEnumerator<StreamChunk> Chunks { get; }

    public TokenUsage? Usage => _stream.Usage;

    /// <summary>True when the watch, not the caller, stopped the last read.</summary>
    public bool TimedOut => _timer.IsCancellationRequested && !_caller.IsCancellationRequested;

    /// <summary>Starts the stream and waits for its first chunk, at most <paramref name="firstChunkTimeout"/>.</summary>
    public static async Task<StartedStream> StartAsync(
        IChatProvider provider, ProviderRequest request, TimeSpan firstChunkTimeout, TimeProvider time,
        CancellationToken attemptToken, CancellationToken caller)
    {
        var stream = await provider.StreamAsync(request, attemptToken).ConfigureAwait(false);
        var started = new StartedStream(stream, time, caller);
        try
        {
            if (!await started.MoveNextWithinAsync(firstChunkTimeout, provider.Name).ConfigureAwait(false))
            {
                throw UpstreamErrors.StreamInterrupted(provider.Name, "the upstream ended the stream without sending anything.");
            }
            return started;
        }
        catch
        {
            await started.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reads the next chunk, failing with <c>stream_interrupted</c> if none comes within <paramref name="limit"/>.</summary>
    public async ValueTask<bool> MoveNextWithinAsync(TimeSpan limit, string provider)
    {
        _timer.CancelAfter(limit);
        try
        {
            return await Chunks.MoveNextAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (TimedOut)
        {
            throw UpstreamErrors.StreamInterrupted(provider, $"no chunk arrived within {limit.TotalSeconds:0.###} s.");
        }
    }

    /// <summary>Holds the deployment's rate-limit lease until the stream ends, then settles it with the reported usage.</summary>
    internal void Hold(RateLimitLease lease)
    {
        _lease = lease;
        lease.Limiter.Observe(_stream.UpstreamRateLimit);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _lease?.Complete(_stream.Usage, upstream: null);
        await Chunks.DisposeAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _linked.Dispose();
        _timer.Dispose();
    }
}
