using System.Collections.Concurrent;
using System.Threading.Channels;
using Baton.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Caching;

/// <summary>
/// The cache in a SQLite file (WAL), so answers survive restarts, kept off the request's path:
/// <list type="bullet">
/// <item>a save queues the answer in memory and returns; one background writer commits whatever has queued (answers,
/// and the times entries were used) in one transaction, dropping expired rows and evicting the least recently used
/// past the size cap by walking an index, so the cost of a write does not grow with the table;</item>
/// <item>a lookup reads the queue first (an answer just saved is a hit at once), then a small in-memory level of
/// recently saved and read answers, then the file through pooled read connections with a prepared statement;</item>
/// <item>disposing (and <see cref="FlushAsync"/>) writes everything queued, so a clean stop loses nothing; a killed
/// process loses at most the answers saved in the last moments, which are asked again and stored again.</item>
/// </list>
/// Expiry follows the injected clock and is checked on every level, so an expired answer is never served.
/// </summary>
public sealed partial class SqliteCacheStore : ICacheStore, IHoldsAnswers, IAsyncDisposable
{
    /// <summary>The most bytes of answers waiting for the writer; past it (a disk far slower than requests) saves are dropped.</summary>
    private const long DefaultMaxQueuedBytes = 64L * 1024 * 1024;

    /// <summary>The most distinct keys whose use waits to be recorded; past it, uses are not recorded until the writer catches up.</summary>
    private const int MaxQueuedUses = 100_000;

    /// <summary>The in-memory level's size: hot answers are served without touching the file.</summary>
    private const long MaxHotBytes = 16L * 1024 * 1024;

    /// <summary>
    /// How long the writer waits, once woken, for more answers before it commits (a flush or a stop cuts it short):
    /// answers arriving steadily cost a few commits a second instead of a writer committing flat out, one answer at
    /// a time. It is also about the most a killed process can lose. Real time: it paces the disk, not the cache's
    /// expiry.
    /// </summary>
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(20);

    /// <summary>Past this many bytes waiting, the writer commits at once.</summary>
    private const long LingerBytes = 4L * 1024 * 1024;

    /// <summary>How often uses alone (hits, no new answers) make the writer commit.</summary>
    private static readonly TimeSpan UseCommitInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, SqliteCacheWrite> _queued = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _uses = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<TaskCompletionSource> _flushes = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly SqliteCacheTable _table;
    private readonly SqliteCacheReaders _readers;
    private readonly MemoryCacheStore _hot;
    private readonly Lock _tableGate = new();
    private readonly long _maxBytes;
    private readonly long _maxQueuedBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Task _drain;
    private long _queuedBytes;
    private int _queuedUses;
    private long _dropped;
    private long _droppedTotal;
    private long _kept;
    private long _generation;
    private long _useCommitRequested;
    private TaskCompletionSource? _lingering;
    private int _signalled;
    private int _disposed;

    /// <param name="path">The cache file; created when missing. A file that is not a usable database throws here.</param>
    /// <param name="maxBytes">The size cap (<c>cache.maxBytes</c>), kept by every commit.</param>
    /// <param name="time">The clock expiry and recency follow.</param>
    /// <param name="logger">Where write and read failures are reported (a failed cache write loses only that answer).</param>
    public SqliteCacheStore(string path, long maxBytes, TimeProvider time, ILogger<SqliteCacheStore>? logger = null)
        : this(path, maxBytes, time, logger, DefaultMaxQueuedBytes)
    {
    }

    /// <summary>A store whose write queue holds at most <c>maxQueuedBytes</c> of answers (tests make it small).</summary>
    internal SqliteCacheStore(string path, long maxBytes, TimeProvider time, ILogger<SqliteCacheStore>? logger, long maxQueuedBytes)
    {
        Path = path;
        _maxBytes = maxBytes;
        _maxQueuedBytes = maxQueuedBytes;
        _time = time;
        _logger = logger ?? NullLogger<SqliteCacheStore>.Instance;
        _table = new SqliteCacheTable(path);
        _readers = new SqliteCacheReaders(path);
        _hot = new MemoryCacheStore(Math.Min(maxBytes, MaxHotBytes), time);
        _drain = Task.Run(DrainAsync);
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    /// <summary>
    /// Answers not stored since the store opened because the writer was that far behind (a disk far slower than the
    /// requests): a cache is not a record, so a save is dropped rather than let the queue grow without bound.
    /// </summary>
    public long DroppedSaves => Interlocked.Read(ref _droppedTotal);

    /// <summary>Saves skipped because the same answer was held and fresh (see <see cref="CachedAnswer.CanStandFor"/>).</summary>
    internal long KeptSaves => Interlocked.Read(ref _kept);

    /// <inheritdoc />
    public ValueTask<CachedAnswer?> FindAsync(string key, CancellationToken cancellationToken = default) => ValueTask.FromResult(Find(key));

    /// <inheritdoc />
    public ValueTask SaveAsync(CachedAnswer answer, CancellationToken cancellationToken = default)
    {
        Save(answer);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<long> PurgeAsync(string? model = null, CancellationToken cancellationToken = default) => ValueTask.FromResult(Purge(model));

    /// <inheritdoc />
    public ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Size());

    /// <summary>The synchronous form of <see cref="FindAsync"/>.</summary>
    public CachedAnswer? Find(string key)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return null;
        }
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        if (_queued.TryGetValue(key, out var queued))
        {
            // The newest answer for the key is this one: once written it replaces the row, so an expired one is a miss.
            if (queued.Answer.Expires <= now)
            {
                return null;
            }
            RecordUse(key, nowMs);
            return queued.Answer;
        }
        if (_hot.Find(key) is { } hot)
        {
            RecordUse(key, nowMs);
            return hot;
        }
        var generation = Interlocked.Read(ref _generation);
        CachedAnswer? stored;
        try
        {
            stored = _readers.Find(key, nowMs);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
        {
            Log.ReadFailed(_logger, ex, Path);
            return null;
        }
        if (stored is null)
        {
            return null;
        }
        // A save, purge or eviction since the read began may have made this row stale: then it is served, not kept.
        if (generation == Interlocked.Read(ref _generation))
        {
            _hot.Save(stored);
        }
        RecordUse(key, nowMs);
        return stored;
    }

    /// <inheritdoc />
    CachedAnswer? IHoldsAnswers.FindEquivalent(string key, string model, string deployment, ReadOnlySpan<byte> body, TokenUsage usage,
        DateTimeOffset now, DateTimeOffset expires)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return null;
        }
        // The newest answer for the key is the queued one, when there is one; else the in-memory level holds what was
        // saved or read last. The file is not read: this runs behind every stored answer.
        var held = _queued.TryGetValue(key, out var queued)
            ? (queued.Answer.CanStandFor(model, deployment, body, usage, now, expires) ? queued.Answer : null)
            : _hot.FindEquivalent(key, model, deployment, body, usage, now, expires);
        if (held is not null)
        {
            // Saving it again would have counted as a use; keeping it does too.
            RecordUse(key, now.ToUnixTimeMilliseconds());
            Interlocked.Increment(ref _kept);
        }
        return held;
    }

    /// <summary>The synchronous form of <see cref="SaveAsync"/>.</summary>
    public void Save(CachedAnswer answer)
    {
        if (answer.Size > _maxBytes || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        Interlocked.Increment(ref _generation);
        if (!Enqueue(new SqliteCacheWrite(answer, _time.GetUtcNow().ToUnixTimeMilliseconds())))
        {
            Interlocked.Increment(ref _dropped);
            Interlocked.Increment(ref _droppedTotal);
            Signal();
            return;
        }
        _hot.Save(answer);
        Signal();
    }

    /// <summary>The synchronous form of <see cref="PurgeAsync"/>.</summary>
    public long Purge(string? model = null)
    {
        lock (_tableGate)
        {
            // Queued answers are written first, so that they are purged (and counted) with the rest.
            CommitLocked();
            Interlocked.Increment(ref _generation);
            var deleted = _table.Purge(model, Now());
            _hot.Purge(model);
            Interlocked.Increment(ref _generation);
            return deleted;
        }
    }

    /// <summary>The synchronous form of <see cref="SizeAsync"/>.</summary>
    public (long Entries, long Bytes) Size()
    {
        lock (_tableGate)
        {
            // The commit writes what is queued and drops what has expired, so the totals are the live entries.
            CommitLocked();
            return _table.Totals();
        }
    }

    /// <summary>Completes when every answer saved (and every use recorded) before the call is committed to the file.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return _drain.WaitAsync(cancellationToken);
        }
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _flushes.Enqueue(flushed);
        Interlocked.Exchange(ref _signalled, 1);
        _wake.Writer.TryWrite(true);
        Volatile.Read(ref _lingering)?.TrySetResult();
        // A flush queued while the writer is finishing is answered by its end, which writes everything left.
        return Task.WhenAny(flushed.Task, _drain).WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _drain.ConfigureAwait(false);
            return;
        }
        _wake.Writer.TryComplete();
        Volatile.Read(ref _lingering)?.TrySetResult();
        await _drain.ConfigureAwait(false);
        _readers.Dispose();
        _table.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Queues an answer for the writer (replacing one queued for the same key); false when the queue is full.</summary>
    private bool Enqueue(SqliteCacheWrite write)
    {
        var key = write.Answer.Key;
        while (true)
        {
            if (_queued.TryGetValue(key, out var earlier))
            {
                if (_queued.TryUpdate(key, write, earlier))
                {
                    Interlocked.Add(ref _queuedBytes, write.Answer.Size - earlier.Answer.Size);
                    return true;
                }
                continue;
            }
            var queuedBytes = Interlocked.Read(ref _queuedBytes);
            if (queuedBytes > 0 && queuedBytes + write.Answer.Size > _maxQueuedBytes)
            {
                return false;
            }
            if (_queued.TryAdd(key, write))
            {
                Interlocked.Add(ref _queuedBytes, write.Answer.Size);
                return true;
            }
        }
    }

    /// <summary>
    /// Notes that an entry was used (for least-recently-used eviction). The writer records uses with its next commit;
    /// every commit that writes answers (the only ones that evict) takes all uses noted before it, so eviction sees
    /// them. Uses alone wake the writer at most every <see cref="UseCommitInterval"/>: a stream of hits must not cost a
    /// commit each.
    /// </summary>
    private void RecordUse(string key, long nowMs)
    {
        if (_uses.TryGetValue(key, out var used))
        {
            if (used < nowMs)
            {
                _uses.TryUpdate(key, nowMs, used);
            }
        }
        else if (Volatile.Read(ref _queuedUses) < MaxQueuedUses && _uses.TryAdd(key, nowMs))
        {
            Interlocked.Increment(ref _queuedUses);
        }
        var lastCommit = Interlocked.Read(ref _useCommitRequested);
        if (_time.GetElapsedTime(lastCommit) >= UseCommitInterval || Volatile.Read(ref _queuedUses) >= MaxQueuedUses / 10)
        {
            if (Interlocked.CompareExchange(ref _useCommitRequested, _time.GetTimestamp(), lastCommit) == lastCommit)
            {
                Signal();
            }
        }
    }

    /// <summary>Wakes the writer, once per batch however many requests ask.</summary>
    private void Signal()
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _wake.Writer.TryWrite(true);
        }
    }

    private async Task DrainAsync()
    {
        var reader = _wake.Reader;
        var flushes = new List<TaskCompletionSource>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await LingerAsync().ConfigureAwait(false);
            reader.TryRead(out _);
            // Cleared before the queues are read: whatever is queued after this point signals again.
            Volatile.Write(ref _signalled, 0);
            Commit(flushes);
        }
        Commit(flushes);
    }

    /// <summary>Waits <see cref="Linger"/> for more answers, unless a flush or a stop is waiting or much is queued.</summary>
    private async Task LingerAsync()
    {
        var lingering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Published before the checks (a full fence): a flush queued after them finds it and cuts the wait short.
        Interlocked.Exchange(ref _lingering, lingering);
        if (_flushes.IsEmpty && Volatile.Read(ref _disposed) == 0 && Interlocked.Read(ref _queuedBytes) < LingerBytes)
        {
            await Task.WhenAny(Task.Delay(Linger, TimeProvider.System), lingering.Task).ConfigureAwait(false);
        }
        Interlocked.Exchange(ref _lingering, null);
    }

    private void Commit(List<TaskCompletionSource> flushes)
    {
        // Flushes are taken before the queues are read, so everything queued before them is in this batch.
        while (_flushes.TryDequeue(out var flushed))
        {
            flushes.Add(flushed);
        }
        lock (_tableGate)
        {
            CommitLocked();
        }
        foreach (var flushed in flushes)
        {
            flushed.TrySetResult();
        }
        flushes.Clear();
    }

    /// <summary>Writes the queued answers and uses in one transaction; never throws (a failed batch is logged and dropped).</summary>
    private void CommitLocked()
    {
        var writes = new List<SqliteCacheWrite>();
        foreach (var (_, write) in _queued)
        {
            writes.Add(write);
        }
        var uses = new List<KeyValuePair<string, long>>();
        foreach (var use in _uses)
        {
            if (_uses.TryRemove(use))
            {
                Interlocked.Decrement(ref _queuedUses);
                uses.Add(use);
            }
        }
        List<string> evicted = [];
        var changedElsewhere = false;
        try
        {
            (evicted, changedElsewhere) = _table.Commit(writes, uses, Now(), _maxBytes);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The writer must go on (a writer that died would leave every flush waiting); a cache write lost costs one
            // upstream call later.
            Log.WriteFailed(_logger, ex, writes.Count, Path);
        }
        foreach (var write in writes)
        {
            // Only if no newer answer was queued for the key meanwhile: that one goes with the next batch.
            if (_queued.TryRemove(new KeyValuePair<string, SqliteCacheWrite>(write.Answer.Key, write)))
            {
                Interlocked.Add(ref _queuedBytes, -write.Answer.Size);
            }
        }
        if (evicted.Count > 0 || changedElsewhere)
        {
            Interlocked.Increment(ref _generation);
        }
        if (changedElsewhere)
        {
            // Another process (baton cache purge, another gateway) changed the file: what is held in memory may be gone.
            _hot.Purge();
        }
        foreach (var key in evicted)
        {
            // A newer answer queued for the same key stays in memory: it is written with the next batch.
            if (!_queued.ContainsKey(key))
            {
                _hot.Remove(key);
            }
        }
        if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
        {
            Log.SavesDropped(_logger, dropped, _maxQueuedBytes);
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Writing {Count} cached answers to {Path} failed; they will be asked upstream again")]
        public static partial void WriteFailed(ILogger logger, Exception exception, int count, string path);

        [LoggerMessage(2, LogLevel.Warning, "Reading the cache file {Path} failed; the request is answered as a miss")]
        public static partial void ReadFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(3, LogLevel.Warning, "{Count} cached answers were not stored: more than {Bytes} bytes were waiting for the cache file")]
        public static partial void SavesDropped(ILogger logger, long count, long bytes);
    }
}
