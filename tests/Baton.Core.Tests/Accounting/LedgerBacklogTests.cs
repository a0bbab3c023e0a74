using Baton.Accounting.Ledger;
using Baton.Core.Tests.TestSupport;
using Baton.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Core.Tests.Accounting;

/// <summary>
/// The ledger writer's bounded backlog: past <c>ledger.maxBacklog</c> rows in memory, rows go to the overflow file,
/// are counted and warned about, and are all written in the end, at a flush, at shutdown, or by the next writer.
/// </summary>
public sealed class LedgerBacklogTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    private static LedgerEntry Entry(int i) => new()
    {
        Time = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero).AddSeconds(i),
        AttemptId = "attempt-" + i,
        Session = "s1",
        ApiKey = "key-1",
        Tags = "a,b",
        Model = "m",
        Deployment = "p/m",
        Usage = TokenUsage.Of(100 + i, 10, cached: 3, reasoning: 1, cacheWrite: 2),
        CostUsd = 0.000001234567m,
        LatencyMs = 12.5,
        Fallback = true,
        Estimated = i % 2 == 0,
    };

    private string Overflow => LedgerWriter.OverflowPathOf(_db.Path);

    private static int Lines(string path) => File.Exists(path) ? File.ReadAllLines(path).Length : 0;

    [Fact]
    public async Task A_full_backlog_spills_to_the_overflow_file_counts_and_warns_once_per_interval_and_loses_no_row()
    {
        var time = new TrackingTimeProvider(DateTimeOffset.UnixEpoch);
        var logger = new ListLogger();
        var store = new GatedStore(_db.Path);
        await using var writer = new LedgerWriter(store, 1000, logger, time, ownsStore: true, maxBacklog: 5, overflowPath: Overflow);

        // The first row is taken and its write held at the store: nothing leaves memory after it.
        writer.TryRecord(Entry(0));
        await time.DriveAsync(() => store.Entered, TimeSpan.FromMilliseconds(20));
        for (var i = 1; i <= 100; i++)
        {
            Assert.True(writer.TryRecord(Entry(i)));
        }

        Assert.Equal(95, writer.Overflowed);
        Assert.Equal(100, writer.Backlog);
        Assert.Equal(95, Lines(Overflow));
        var warning = Assert.Single(logger.Warnings);
        Assert.Contains("1 rows spilled", warning);
        Assert.Contains("ledger.maxBacklog", warning);

        // Within the interval, spills are counted but not logged; after it, one warning covers them all.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(writer.TryRecord(Entry(101)));
        Assert.Equal(2, logger.Warnings.Count);
        Assert.Contains("95 rows spilled", logger.Warnings[1]);

        store.Open();
        await time.DriveAsync(() => writer.FlushAsync(), TimeSpan.FromMilliseconds(20));
        Assert.Equal(102, _db.Scalar("SELECT COUNT(DISTINCT attempt_id) FROM ledger"));
        Assert.Equal(102, _db.Scalar("SELECT COUNT(*) FROM ledger"));
        Assert.Equal(0, writer.Backlog);
        Assert.Equal(96, writer.Overflowed);
        Assert.False(File.Exists(Overflow));
        Assert.False(File.Exists(Overflow + ".draining"));
        // A spilled row reads back as it was queued, to the token and the picodollar.
        var report = LedgerQuery.Run(_db.Path, new CostQuery(GroupBy: CostGrouping.Key) { Key = "key-1" });
        Assert.Equal(102 * 0.000001234567m, report.Total.CostUsd);
        Assert.Equal(Enumerable.Range(0, 102).Sum(i => 100 + i), report.Total.PromptTokens);
        Assert.Equal(102 * 3, report.Total.CachedTokens);
        Assert.Equal(102 * 2, report.Total.CacheWriteTokens);
        Assert.Equal(51, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE estimated = 1 AND fallback = 1 AND tags = 'a,b' AND latency_ms = 12.5"));
    }

    [Fact]
    public async Task Shutdown_writes_every_row_held_in_memory_and_spilled()
    {
        var time = new TrackingTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new GatedStore(_db.Path);
        var writer = new LedgerWriter(store, 1000, NullLogger<LedgerWriter>.Instance, time, ownsStore: true, maxBacklog: 10, overflowPath: Overflow);
        writer.TryRecord(Entry(0));
        await time.DriveAsync(() => store.Entered, TimeSpan.FromMilliseconds(20));
        for (var i = 1; i < 500; i++)
        {
            writer.TryRecord(Entry(i));
        }
        Assert.Equal(489, writer.Overflowed);

        store.Open();
        await time.DriveAsync(() => writer.DisposeAsync().AsTask(), TimeSpan.FromMilliseconds(20));

        Assert.Equal(500, _db.Scalar("SELECT COUNT(DISTINCT attempt_id) FROM ledger"));
        Assert.False(writer.TryRecord(Entry(1000)));
        Assert.False(File.Exists(Overflow));
        Assert.False(File.Exists(Overflow + ".draining"));
    }

    [Fact]
    public async Task Rows_a_stopped_process_left_in_the_overflow_files_are_written_by_the_next_writer_once()
    {
        // A process stopped mid-drain: rows 0-2 were being drained (row 0 was committed already), rows 3-5 were spilled
        // after, and a power cut tore the last line it was writing.
        await using (var writer = new LedgerWriter(_db.Path, 100, NullLogger<LedgerWriter>.Instance))
        {
            await writer.RecordAsync([Entry(0)]);
        }
        using (var overflow = new LedgerOverflow(Overflow))
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.True(overflow.TryAppend(Entry(i), out _));
            }
        }
        File.Move(Overflow, Overflow + ".draining");
        using (var overflow = new LedgerOverflow(Overflow))
        {
            for (var i = 3; i < 6; i++)
            {
                Assert.True(overflow.TryAppend(Entry(i), out _));
            }
        }
        File.AppendAllText(Overflow, """{"Time":"2026-01-01T12:00:07+00:00","AttemptId":"attem""");
        using (var overflow = new LedgerOverflow(Overflow))
        {
            Assert.Equal(7, overflow.Pending);
        }

        await using (var writer = new LedgerWriter(_db.Path, 100, NullLogger<LedgerWriter>.Instance))
        {
            await writer.FlushAsync();
            Assert.Equal(0, writer.Backlog);
            Assert.Equal(0, writer.Overflowed);
        }

        Assert.Equal(6, _db.Scalar("SELECT COUNT(*) FROM ledger"));
        Assert.Equal(6, _db.Scalar("SELECT COUNT(DISTINCT attempt_id) FROM ledger"));
        Assert.False(File.Exists(Overflow));
        Assert.False(File.Exists(Overflow + ".draining"));
    }

    [Fact]
    public async Task A_torn_last_line_does_not_swallow_the_next_row_spilled()
    {
        File.WriteAllText(Overflow, """{"Time":"2026-01-01T12""");
        using (var overflow = new LedgerOverflow(Overflow))
        {
            Assert.True(overflow.TryAppend(Entry(1), out _));
        }

        await using (var writer = new LedgerWriter(_db.Path, 100, NullLogger<LedgerWriter>.Instance))
        {
            await writer.FlushAsync();
        }

        Assert.Equal("attempt-1", _db.Text("SELECT attempt_id FROM ledger"));
    }

    [Fact]
    public async Task Spilled_rows_a_failing_store_refused_are_kept_and_written_once_it_recovers()
    {
        var time = new TrackingTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new GatedStore(_db.Path);
        await using var writer = new LedgerWriter(store, 1000, NullLogger<LedgerWriter>.Instance, time, ownsStore: true, maxBacklog: 2, overflowPath: Overflow);
        writer.TryRecord(Entry(0));
        await time.DriveAsync(() => store.Entered, TimeSpan.FromMilliseconds(20));
        for (var i = 1; i <= 20; i++)
        {
            writer.TryRecord(Entry(i));
        }
        Assert.Equal(18, writer.Overflowed);

        // Every write is refused, its retries included: the spilled rows stay in the file.
        store.Fail = true;
        store.Open();
        await time.DriveAsync(() => writer.FlushAsync(), TimeSpan.FromMilliseconds(200));
        Assert.Equal(18, writer.Backlog);
        Assert.Equal(18, Lines(Overflow + ".draining") + Lines(Overflow));

        store.Fail = false;
        await time.DriveAsync(() => writer.FlushAsync(), TimeSpan.FromMilliseconds(20));
        Assert.Equal(0, writer.Backlog);
        Assert.Equal(18, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE CAST(substr(attempt_id, 9) AS INTEGER) BETWEEN 3 AND 20"));
    }

    [Fact]
    public async Task Many_producers_past_a_small_backlog_record_every_row_exactly_once()
    {
        const int Producers = 4, Rows = 3000;
        await using (var writer = new LedgerWriter(_db.Path, 100, NullLogger<LedgerWriter>.Instance, maxBacklog: 50))
        {
            await Task.WhenAll(Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
            {
                for (var i = 0; i < Rows; i++)
                {
                    Assert.True(writer.TryRecord(Entry(p * Rows + i)));
                }
            })));
        }

        Assert.Equal(Producers * Rows, _db.Scalar("SELECT COUNT(*) FROM ledger"));
        Assert.Equal(Producers * Rows, _db.Scalar("SELECT COUNT(DISTINCT attempt_id) FROM ledger"));
        Assert.False(File.Exists(Overflow));
    }

    /// <summary>The SQLite store, holding writes at a gate until the test opens it, or refusing them as a full disk would.</summary>
    private sealed class GatedStore(string path) : ILedgerStore
    {
        private readonly SqliteLedgerStore _inner = new(path);
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public bool Fail { get; set; }

        public string Location => _inner.Location;

        public void Open() => _gate.TrySetResult();

        public async ValueTask WriteAsync(IReadOnlyList<LedgerEntry> rows, CancellationToken cancellationToken)
        {
            _entered.TrySetResult();
            await _gate.Task;
            if (Fail)
            {
                throw new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13);
            }
            await _inner.WriteAsync(rows, cancellationToken);
        }

        public ValueTask<CostReport> QueryAsync(CostQuery query, CancellationToken cancellationToken) => _inner.QueryAsync(query, cancellationToken);

        public ValueTask<long> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken) => _inner.PurgeAsync(before, cancellationToken);

        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }

    private sealed class ListLogger : ILogger<LedgerWriter>
    {
        private readonly List<string> _warnings = [];

        public IReadOnlyList<string> Warnings
        {
            get
            {
                lock (_warnings)
                {
                    return [.. _warnings];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                lock (_warnings)
                {
                    _warnings.Add(formatter(state, exception));
                }
            }
        }
    }
}
