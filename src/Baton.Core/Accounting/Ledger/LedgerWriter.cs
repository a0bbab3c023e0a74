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
/// loses nothing. The backlog held in memory is bounded (<c>ledger.maxBacklog</c>): past it, rows are spilled to an
/// append-only overflow file (<see cref="LedgerOverflow"/>) that the loop drains once it has caught up, so a store
/// slower than the load costs disk, not memory, and never a row or a wait on the request path. A killed process
/// loses the rows still queued in memory (those of the answers of the last <see cref="Linger"/> plus the time of one
/// commit, at most the backlog's bound); spilled rows are in the file and written by the next writer on the ledger.
/// Rows are kept once per <see cref="LedgerEntry.AttemptId"/>, so a row written again bills once. Where the rows
/// go is an <see cref="ILedgerStore"/>: Baton's SQLite file by default, a shared PostgreSQL database for many gateways.
/// </summary>
public sealed partial class LedgerWriter : IAsyncDisposable, IDisposable
{
    /// <summary>How long a batch waits for more rows after its first: the most a row waits before it is committed.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(20);

    /// <summary>The most rows held in memory by default (<c>ledger.maxBacklog</c>): about 40 MB of rows.</summary>
    public const int DefaultMaxBacklog = 100_000;

    /// <summary>The least time between two warnings that rows are being spilled.</summary>
    private static readonly TimeSpan OverflowWarningInterval = TimeSpan.FromSeconds(10);

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
    private readonly int _maxBacklog;
    private readonly LedgerOverflow? _overflow;
    private long _overflowed;
    private long _spilledSinceWarning;
    private long _nextWarning;
    private int _closed;

    /// <summary>
    /// A writer to the SQLite file at <paramref name="path"/>, created when missing, holding at most
    /// <paramref name="maxBacklog"/> rows in memory and spilling the rest to <c>{path}.overflow</c>.
    /// </summary>
    public LedgerWriter(string path, int batchSize, ILogger<LedgerWriter> logger, TimeProvider? time = null, int maxBacklog = DefaultMaxBacklog)
        : this(new SqliteLedgerStore(path), batchSize, logger, time, ownsStore: true, maxBacklog, OverflowPathOf(path))
    {
    }

    /// <summary>A writer to <paramref name="store"/>, disposed with the writer when <paramref name="ownsStore"/>.</summary>
    /// <param name="store">Where the rows go.</param>
    /// <param name="batchSize">The most rows written in one call to the store.</param>
    /// <param name="logger">Where failures and spills are reported.</param>
    /// <param name="time">The clock of the linger, retry pauses and warning intervals.</param>
    /// <param name="ownsStore">Dispose <paramref name="store"/> with the writer.</param>
    /// <param name="maxBacklog">The most rows held in memory; later rows go to <paramref name="overflowPath"/>.</param>
    /// <param name="overflowPath">
    /// The overflow file (see <see cref="OverflowPathOf"/>); rows left in it by an earlier process are written first.
    /// Without one the backlog is not bounded.
    /// </param>
    public LedgerWriter(ILedgerStore store, int batchSize, ILogger<LedgerWriter> logger, TimeProvider? time = null, bool ownsStore = false,
        int maxBacklog = DefaultMaxBacklog, string? overflowPath = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBacklog, 1);
        _store = store;
        _ownsStore = ownsStore;
        _batchSize = batchSize;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _maxBacklog = overflowPath is null ? int.MaxValue : maxBacklog;
        _overflow = overflowPath is null ? null : new LedgerOverflow(overflowPath);
        _drain = Task.Run(DrainAsync);
    }

    /// <summary>The overflow file of the ledger at <paramref name="ledgerPath"/>: <c>{ledgerPath}.overflow</c>.</summary>
    public static string OverflowPathOf(string ledgerPath) => ledgerPath + ".overflow";

    /// <summary>Where the rows go: the ledger's file, or the shared database's host and name.</summary>
    public string Location => _store.Location;

    /// <summary>Adds up the committed rows matching <paramref name="query"/> (call <see cref="FlushAsync"/> first to count the queued ones).</summary>
    public ValueTask<CostReport> QueryAsync(CostQuery query, CancellationToken cancellationToken = default) => _store.QueryAsync(query, cancellationToken);

    /// <summary>Deletes the rows recorded before <paramref name="before"/>; how many were deleted.</summary>
    public ValueTask<long> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken = default) => _store.PurgeAsync(before, cancellationToken);

    /// <summary>Rows committed so far by this writer.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Rows queued and not yet written, in memory or in the overflow file (the <c>baton.ledger.backlog</c> gauge).</summary>
    public long Backlog => Math.Max(0, Volatile.Read(ref _queued)) + (_overflow?.Pending ?? 0);

    /// <summary>Rows spilled to the overflow file since the writer started, because the backlog was full (<c>baton.ledger.overflowed</c>).</summary>
    public long Overflowed => Interlocked.Read(ref _overflowed);

    /// <summary>Queues a row (in memory, or in the overflow file when the backlog is full); false only after shutdown began.</summary>
    public bool TryRecord(LedgerEntry entry)
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            return false;
        }
        // Counted before it is written, so the drain loop never sees the row without its count.
        if (Interlocked.Increment(ref _queued) > _maxBacklog)
        {
            Interlocked.Decrement(ref _queued);
            if (Spill(entry) is { } spilled)
            {
                return spilled;
            }
            // The overflow file could not be written: the row is kept in memory past the bound rather than lost.
            Interlocked.Increment(ref _queued);
        }
        if (_channel.Writer.TryWrite(new Work(entry, null, null, Confirmed: false)))
        {
            return true;
        }
        Interlocked.Decrement(ref _queued);
        return false;
    }

    /// <summary>Appends a row to the overflow file: whether it was taken, or null when the file could not be written.</summary>
    private bool? Spill(LedgerEntry entry)
    {
        bool first;
        try
        {
            if (!_overflow!.TryAppend(entry, out first))
            {
                return false;
            }
        }
        catch (IOException ex)
        {
            Log.SpillFailed(_logger, ex, _overflow!.Path);
            return null;
        }
        Interlocked.Increment(ref _overflowed);
        Interlocked.Increment(ref _spilledSinceWarning);
        if (first)
        {
            // The loop may be asleep with nothing in memory to wake it: an empty item does.
            _channel.Writer.TryWrite(default);
        }
        WarnOverflow();
        return true;
    }

    /// <summary>At most one warning per <see cref="OverflowWarningInterval"/>, with the rows spilled since the last.</summary>
    private void WarnOverflow()
    {
        var now = _time.GetTimestamp();
        var next = Interlocked.Read(ref _nextWarning);
        if (now < next || Interlocked.CompareExchange(ref _nextWarning, now + (long)(OverflowWarningInterval.TotalSeconds * _time.TimestampFrequency), next) != next)
        {
            return;
        }
        Log.Overflowing(_logger, Interlocked.Exchange(ref _spilledSinceWarning, 0), _maxBacklog, _overflow!.Path);
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
        while (true)
        {
            if (!reader.TryPeek(out _))
            {
                // Caught up with memory: the spilled rows' turn.
                if (_overflow is { Pending: > 0 } && await DrainOverflowAsync(batch).ConfigureAwait(false))
                {
                    continue;
                }
                if (!await reader.WaitToReadAsync().ConfigureAwait(false))
                {
                    break;
                }
            }
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
            batch.Clear();
            if (_overflow is { Pending: > 0 })
            {
                // A flush covers the rows spilled before it; otherwise one spilled batch per batch from memory, so
                // neither waits for the other to run dry.
                await DrainOverflowAsync(batch, all: flushes.Count > 0).ConfigureAwait(false);
            }
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
            flushes.Clear();
            confirmations.Clear();
        }
        if (_overflow is not null)
        {
            // Shutdown: every spilled row is written; rows a failing store refused stay in the file for the next start.
            await DrainOverflowAsync(batch, all: true).ConfigureAwait(false);
            _overflow.Dispose();
        }
    }

    /// <summary>
    /// Writes spilled rows: one batch, or with <paramref name="all"/> every row pending when called. False when there was
    /// nothing to write or the store refused the rows (they stay in the file, read again next time).
    /// </summary>
    private async Task<bool> DrainOverflowAsync(List<LedgerEntry> batch, bool all = false)
    {
        var remaining = all ? _overflow!.Pending : 1;
        var wrote = false;
        while (remaining > 0)
        {
            var lines = _overflow!.Read(batch, _batchSize);
            if (lines == 0)
            {
                break;
            }
            var failure = batch.Count > 0 ? await WriteWithRetriesAsync(batch, spilled: true).ConfigureAwait(false) : null;
            batch.Clear();
            if (failure is not null)
            {
                _overflow.Rewind();
                return false;
            }
            _overflow.Committed(lines);
            wrote = true;
            remaining = all ? remaining - lines : 0;
        }
        return wrote;
    }

    /// <summary>Writes a batch of rows; the error that made it give up, or null once they are committed.</summary>
    private async Task<Exception?> WriteWithRetriesAsync(List<LedgerEntry> batch, bool spilled = false)
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
                if (spilled)
                {
                    Log.SpilledWriteFailed(_logger, ex, batch.Count, Location, _overflow!.Path);
                }
                else
                {
                    Log.WriteFailed(_logger, ex, batch.Count, Location);
                }
                return ex;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await PreparedAsync().ConfigureAwait(false);
        Volatile.Write(ref _closed, 1);
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

        [LoggerMessage(3, LogLevel.Warning, "The ledger's backlog is full ({MaxBacklog} rows, ledger.maxBacklog): {Count} rows spilled to {Path}, written once the ledger catches up")]
        public static partial void Overflowing(ILogger logger, long count, int maxBacklog, string path);

        [LoggerMessage(4, LogLevel.Error, "Spilling a ledger row to {Path} failed; the row is kept in memory past ledger.maxBacklog")]
        public static partial void SpillFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(5, LogLevel.Error, "Writing {Count} spilled ledger rows to {Path} failed; they stay in {Overflow} and are written again later")]
        public static partial void SpilledWriteFailed(ILogger logger, Exception exception, int count, string path, string overflow);
    }
}
