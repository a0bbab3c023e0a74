using System.Collections.Concurrent;
using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Baton.Accounting.Ledger;

/// <summary>
/// Writes ledger rows off the request path: requests drop entries into a channel, and one background loop
/// drains it, writing whatever has accumulated (up to the batch size) in one transaction. After the first
/// row of a batch it lingers a few milliseconds, so that a steady flow of requests costs a few synchronous
/// commits a second rather than one per request. A row still being prepared (an answer whose tokens Baton
/// counts itself, in the background) is <see cref="Track">tracked</see>: flushes wait for it. Disposing waits
/// for those rows, completes the channel and waits until every entry taken is written, so a clean shutdown
/// loses nothing. A killed process loses the rows still queued: those of the answers of the last
/// <see cref="Linger"/> plus the time of one commit, and any backlog a write slower than the load has let grow.
/// Rows are kept once per <see cref="LedgerEntry.AttemptId"/>, so a row written again bills once. Where the rows
/// go is an <see cref="ILedgerStore"/>: Baton's SQLite file by default, a shared PostgreSQL database for many gateways.
/// </summary>
public sealed partial class LedgerWriter : IAsyncDisposable, IDisposable
{
    /// <summary>How long a batch waits for more rows after its first: the most a row waits before it is committed.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(20);

    private readonly Channel<Work> _channel = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILedgerStore _store;
    private readonly bool _ownsStore;
    private readonly int _batchSize;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Task _drain;
    private readonly ConcurrentDictionary<Task, byte> _preparing = new();
    private long _written;
    private int _storeDisposed;
    private int _queued;

    /// <summary>A writer to the SQLite file at <paramref name="path"/>, created when missing.</summary>
    public LedgerWriter(string path, int batchSize, ILogger<LedgerWriter> logger, TimeProvider? time = null)
        : this(new SqliteLedgerStore(path), batchSize, logger, time, ownsStore: true)
    {
    }

    /// <summary>A writer to <paramref name="store"/>, disposed with the writer when <paramref name="ownsStore"/>.</summary>
    public LedgerWriter(ILedgerStore store, int batchSize, ILogger<LedgerWriter> logger, TimeProvider? time = null, bool ownsStore = false)
    {
        _store = store;
        _ownsStore = ownsStore;
        _batchSize = batchSize;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _drain = Task.Run(DrainAsync);
    }

    /// <summary>Where the rows go: the ledger's file, or the shared database's host and name.</summary>
    public string Location => _store.Location;

    /// <summary>Adds up the committed rows matching <paramref name="query"/> (call <see cref="FlushAsync"/> first to count the queued ones).</summary>
    public ValueTask<CostReport> QueryAsync(CostQuery query, CancellationToken cancellationToken = default) => _store.QueryAsync(query, cancellationToken);

    /// <summary>Deletes the rows recorded before <paramref name="before"/>; how many were deleted.</summary>
    public ValueTask<long> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken = default) => _store.PurgeAsync(before, cancellationToken);

    /// <summary>Rows committed so far by this writer.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Rows queued and not yet written (the <c>baton.ledger.backlog</c> gauge).</summary>
    public long Backlog => Math.Max(0, Volatile.Read(ref _queued));

    /// <summary>Queues a row; false only after shutdown began.</summary>
    public bool TryRecord(LedgerEntry entry)
    {
        // Counted before it is written, so the drain loop never sees the row without its count.
        Interlocked.Increment(ref _queued);
        if (_channel.Writer.TryWrite(new Work(entry, null, null, Confirmed: false)))
        {
            return true;
        }
        Interlocked.Decrement(ref _queued);
        return false;
    }

    /// <summary>
    /// Writes rows and completes once they are committed (rows already in the ledger, by attempt id, are left out);
    /// faults when they could not be written, so a caller that keeps them elsewhere can deliver them again later.
    /// </summary>
    public Task RecordAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken = default)
    {
        if (entries.Count == 0)
        {
            return Task.CompletedTask;
        }
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Add(ref _queued, entries.Count);
        if (!_channel.Writer.TryWrite(new Work(null, entries, written, Confirmed: true)))
        {
            Interlocked.Add(ref _queued, -entries.Count);
            return Task.FromException(new ObjectDisposedException(nameof(LedgerWriter), "The ledger is shutting down; the rows were not written."));
        }
        return written.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Holds flushes and disposal until <paramref name="preparing"/> completes: a task that records a row once
    /// it has what the row needs (the tokens of an answer Baton counts itself).
    /// </summary>
    public void Track(Task preparing)
    {
        if (preparing.IsCompleted || !_preparing.TryAdd(preparing, 0))
        {
            return;
        }
        preparing.ContinueWith(static (done, rows) => ((ConcurrentDictionary<Task, byte>)rows!).TryRemove(done, out _), _preparing,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Completes when every row queued or <see cref="Track">tracked</see> before the call is committed.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await PreparedAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite(new Work(null, null, flushed, Confirmed: false)))
        {
            // Shut down: the drain loop finishes everything it took.
            await _drain.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await flushed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Completes when the rows being prepared now have been recorded (or failed: their tasks report that).</summary>
    private async Task PreparedAsync()
    {
        foreach (var preparing in _preparing.Keys)
        {
            await preparing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task DrainAsync()
    {
        var batch = new List<LedgerEntry>(_batchSize);
        var flushes = new List<TaskCompletionSource>();
        var confirmations = new List<TaskCompletionSource>();
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Lingering gathers a batch when rows trickle in; when a whole batch is already waiting it would only
            // cap the writer at one batch per linger (25,000 rows a second), and the backlog would grow in memory.
            if (reader.TryPeek(out var first) && (first.Entry is not null || first.Entries is { Count: > 0 }) && Volatile.Read(ref _queued) < _batchSize)
            {
                await Task.Delay(Linger, _time).ConfigureAwait(false);
            }
            while (batch.Count < _batchSize && reader.TryRead(out var work))
            {
                // The rows of one call stay in one transaction, so its confirmation covers them all.
                if (work.Entry is not null)
                {
                    batch.Add(work.Entry);
                    Interlocked.Decrement(ref _queued);
                }
                else if (work.Entries is not null)
                {
                    batch.AddRange(work.Entries);
                    Interlocked.Add(ref _queued, -work.Entries.Count);
                }
                if (work.Done is { } done)
                {
                    (work.Confirmed ? confirmations : flushes).Add(done);
                }
            }
            var failure = batch.Count > 0 ? await WriteWithRetriesAsync(batch).ConfigureAwait(false) : null;
            foreach (var flushed in flushes)
            {
                flushed.TrySetResult();
            }
            foreach (var confirmation in confirmations)
            {
                if (failure is null)
                {
                    confirmation.TrySetResult();
                }
                else
                {
                    confirmation.TrySetException(failure);
                }
            }
            batch.Clear();
            flushes.Clear();
            confirmations.Clear();
        }
    }

    /// <summary>Writes a batch of rows; the error that made it give up, or null once they are committed.</summary>
    private async Task<Exception?> WriteWithRetriesAsync(List<LedgerEntry> batch)
    {
        // A busy or briefly unwritable file should not cost rows: retry a few times before giving up loudly. A
        // commit that failed after all may have stored the rows: writing them again leaves them once (by attempt id).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _store.WriteAsync(batch, CancellationToken.None).ConfigureAwait(false);
                Interlocked.Add(ref _written, batch.Count);
                return null;
            }
            // Busy, locked, a dropped connection: SQLite's and PostgreSQL's errors alike derive from DbException.
            catch (DbException ex) when (attempt < 5)
            {
                Log.WriteRetry(_logger, batch.Count, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), _time).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Logged loudly, and the loop goes on: a writer that died here would lose every later row and
                // leave every flush waiting forever.
                Log.WriteFailed(_logger, ex, batch.Count, Location);
                return ex;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await PreparedAsync().ConfigureAwait(false);
        _channel.Writer.TryComplete();
        await _drain.ConfigureAwait(false);
        if (_ownsStore && Interlocked.Exchange(ref _storeDisposed, 1) == 0)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// A row (<see cref="TryRecord"/>), rows (<see cref="RecordAsync"/>) or neither (a flush), and what to complete once
    /// they are written: a flush, or a confirmation that faults when they are lost.
    /// </summary>
    private readonly record struct Work(LedgerEntry? Entry, IReadOnlyList<LedgerEntry>? Entries, TaskCompletionSource? Done, bool Confirmed);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Writing {Count} ledger rows failed (attempt {Attempt}), retrying: {Reason}")]
        public static partial void WriteRetry(ILogger logger, int count, int attempt, string reason);

        [LoggerMessage(2, LogLevel.Error, "Writing {Count} ledger rows to {Path} failed; those rows are lost")]
        public static partial void WriteFailed(ILogger logger, Exception exception, int count, string path);
    }
}
