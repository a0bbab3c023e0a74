using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Baton.Batching.Jobs;

/// <summary>The batches waiting to run, and a way to stop the one running when it is cancelled.</summary>
public sealed class BatchJobQueue
{
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, byte> _waiting = new(StringComparer.Ordinal);

    /// <summary>The ids of the batches to run, in the order queued; read by the one batch service (call <see cref="Taken"/> for each).</summary>
    public ChannelReader<string> Reader => _queue.Reader;

    /// <summary>Queues a batch, unless it is waiting in the queue already (found again by a look for unleased batches).</summary>
    public void Enqueue(string batchId)
    {
        if (_waiting.TryAdd(batchId, 0))
        {
            _queue.Writer.TryWrite(batchId);
        }
    }

    /// <summary>Called by the reader when it takes a batch from the queue: it may be queued again from then on.</summary>
    public void Taken(string batchId) => _waiting.TryRemove(batchId, out _);

    /// <summary>A token cancelled by <see cref="Cancel"/> while the batch runs; dispose the registration when it ends.</summary>
    public Registration Register(string batchId)
    {
        var source = new CancellationTokenSource();
        _running[batchId] = source;
        return new Registration(this, batchId, source);
    }

    /// <summary>Stops the batch's items in flight; false when it is not running.</summary>
    public bool Cancel(string batchId)
    {
        if (!_running.TryGetValue(batchId, out var source))
        {
            return false;
        }
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It has just ended.
        }
        return true;
    }

    /// <summary>A running batch's hold on its cancellation token; disposing it ends the hold (the batch can no longer be stopped through the queue).</summary>
    /// <param name="queue">The queue the batch is registered with.</param>
    /// <param name="batchId">The running batch.</param>
    /// <param name="source">The source <see cref="Cancel"/> cancels; disposed with the registration.</param>
    public sealed class Registration(BatchJobQueue queue, string batchId, CancellationTokenSource source) : IDisposable
    {
        /// <summary>Cancelled when the batch is cancelled while it runs.</summary>
        public CancellationToken Token => source.Token;

        /// <summary>Forgets the batch (a later <see cref="Cancel"/> of it returns false) and disposes its token's source.</summary>
        public void Dispose()
        {
            queue._running.TryRemove(new KeyValuePair<string, CancellationTokenSource>(batchId, source));
            source.Dispose();
        }
    }
}
