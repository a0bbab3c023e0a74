using System.Runtime.CompilerServices;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;

namespace Baton.Engine;

/// <summary>
/// A provider stream that has delivered its first chunk, with the watch that bounds the silence between
/// chunks on the injected clock. The watch runs only while a chunk is awaited from the upstream: while the
/// caller holds a chunk (writing it to a client that may read slowly), the upstream is not being asked for
/// anything and its silence is not its fault. Owns the stream and its enumerator.
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
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> MoveNextWithinAsync(TimeSpan limit, string provider)
    {
        // Re-arming and disarming change the one timer's due time: nothing is allocated per chunk.
        _timer.CancelAfter(limit);
        try
        {
            return await Chunks.MoveNextAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (TimedOut)
        {
            throw UpstreamErrors.StreamInterrupted(provider, $"no chunk arrived within {limit.TotalSeconds:0.###} s.");
        }
        finally
        {
            Disarm();
        }
    }

    /// <summary>
    /// Stops the watch until the next read. A watch that fired in the instant the chunk arrived has already
    /// cancelled the upstream read, and the next read reports the timeout it nearly was.
    /// </summary>
    private void Disarm()
    {
        try
        {
            if (!_timer.IsCancellationRequested)
            {
                _timer.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
        catch (ObjectDisposedException)
        {
            // The stream was disposed while this read was in flight: there is nothing left to watch.
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
