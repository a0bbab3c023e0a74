using Baton.Accounting.Ledger;
using Baton.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Core.Tests.Accounting;

public sealed class LedgerTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    private LedgerWriter Writer(int batchSize = 500) => new(_db.Path, batchSize, NullLogger<LedgerWriter>.Instance);

    private static LedgerEntry Entry(int i, string model = "m", string? session = "s1", string? tier = null, DateTimeOffset? time = null) => new()
    {
        Time = time ?? new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero).AddMinutes(i),
        Session = session,
        Model = model,
        Deployment = "p/" + model,
        Tier = tier,
        Usage = TokenUsage.Of(100 + i, 10, cached: i % 2, reasoning: 1),
        CostUsd = 0.000001234567m,
    };

    [Fact]
    public async Task Rows_are_written_in_batches_and_add_up_exactly()
    {
        await using (var writer = Writer(batchSize: 7))
        {
            for (var i = 0; i < 100; i++)
            {
                Assert.True(writer.TryRecord(Entry(i, i % 3 == 0 ? "a" : "b", tier: i % 2 == 0 ? "fast" : null)));
            }
            await writer.FlushAsync();
            Assert.Equal(100, writer.Written);
        }

        var report = LedgerQuery.Run(_db.Path, new CostQuery(SessionId: "s1", GroupBy: CostGrouping.Model));
        Assert.Equal(100, report.Total.Requests);
        Assert.Equal(100 * 0.000001234567m, report.Total.CostUsd);
        Assert.Equal(Enumerable.Range(0, 100).Sum(i => 100 + i), report.Total.PromptTokens);
        Assert.Equal(50, report.Total.CachedTokens);
        Assert.Equal(["b", "a"], report.Breakdown.Select(g => g.Key));
        Assert.Equal(34, report.Breakdown.Single(g => g.Key == "a").Totals.Requests);

        var byTier = LedgerQuery.Run(_db.Path, new CostQuery(GroupBy: CostGrouping.Tier));
        Assert.Equal(["fast", LedgerQuery.None], byTier.Breakdown.Select(g => g.Key).Order().Reverse());
        Assert.Empty(LedgerQuery.Run(_db.Path, new CostQuery(SessionId: "other")).Breakdown);
    }

    [Fact]
    public async Task A_row_written_again_with_the_same_attempt_id_is_kept_once()
    {
        var first = Entry(1) with { AttemptId = "attempt-1" };
        await using (var writer = Writer())
        {
            Assert.True(writer.TryRecord(first));
            Assert.True(writer.TryRecord(first));
            await writer.FlushAsync();
            // A confirmed write of rows partly there already (a batch item's rows delivered again after a crash).
            await writer.RecordAsync([first, Entry(2) with { AttemptId = "attempt-2" }]);
            // Rows without an attempt id are never taken for one another.
            writer.TryRecord(Entry(3));
            writer.TryRecord(Entry(3));
            await writer.FlushAsync();
        }

        Assert.Equal(4, _db.Scalar("SELECT COUNT(*) FROM ledger"));
        Assert.Equal(1, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE attempt_id = 'attempt-1'"));
        Assert.Equal(4, LedgerQuery.Run(_db.Path, new CostQuery()).Total.Requests);
    }

    [Fact]
    public async Task A_ledger_written_before_attempt_ids_gains_the_column_and_keeps_its_rows()
    {
        using (var connection = _db.Open())
        using (var command = connection.CreateCommand())
        {
            // The table as earlier versions created it, with one row.
            command.CommandText = """
                CREATE TABLE ledger (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, session TEXT, api_key TEXT, user TEXT, tags TEXT,
                    task TEXT, tier TEXT, model TEXT NOT NULL, deployment TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
                    cached_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
                    cost_picousd INTEGER NOT NULL, priced INTEGER NOT NULL, latency_ms REAL NOT NULL, cached INTEGER NOT NULL,
                    fallback INTEGER NOT NULL, status INTEGER NOT NULL, estimated INTEGER NOT NULL);
                INSERT INTO ledger VALUES (1, 0, 's1', NULL, NULL, NULL, NULL, NULL, 'm', 'p/m', 10, 0, 5, 0, 100, 1, 1.5, 0, 0, 200, 0);
                """;
            command.ExecuteNonQuery();
        }

        await using (var writer = Writer())
        {
            await writer.RecordAsync([Entry(1) with { AttemptId = "a" }, Entry(1) with { AttemptId = "a" }]);
        }

        Assert.Equal(2, _db.Scalar("SELECT COUNT(*) FROM ledger"));
        Assert.Equal(1, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE attempt_id IS NULL"));
        Assert.Equal(1, _db.Scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'ledger_attempt'"));
    }

    [Fact]
    public async Task A_confirmed_write_fails_when_the_rows_cannot_be_written()
    {
        var time = new Baton.Core.Tests.TestSupport.TrackingTimeProvider(DateTimeOffset.UnixEpoch);
        await using var writer = new LedgerWriter(_db.Path, 10, NullLogger<LedgerWriter>.Instance, time);
        using (var connection = _db.Open())
        using (var command = connection.CreateCommand())
        {
            // As a full disk would: every insert is refused.
            command.CommandText = "CREATE TRIGGER refuse BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;";
            command.ExecuteNonQuery();
        }

        // Refused five times (the clock moved past the linger and each retry's pause), then reported to the caller.
        var error = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(
            () => time.DriveAsync(() => writer.RecordAsync([Entry(1) with { AttemptId = "a" }]), TimeSpan.FromSeconds(1)));
        Assert.Contains("disk is full", error.Message);
    }

    [Fact]
    public async Task Whole_batches_are_written_at_once_and_only_a_partial_batch_lingers()
    {
        var time = new Baton.Core.Tests.TestSupport.TrackingTimeProvider(DateTimeOffset.UnixEpoch);
        await using var writer = new LedgerWriter(_db.Path, 10, NullLogger<LedgerWriter>.Instance, time);
        for (var i = 0; i < 35; i++)
        {
            writer.TryRecord(Entry(i));
        }

        // The first row may have found the writer idle and made it linger: once it waits, the clock moves past the linger.
        await UntilAsync(time, () => writer.Written > 0 || time.ParkedDelays > 0);
        if (writer.Written == 0)
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
        }
        // The next whole batches go without the clock moving (before, each one waited 20 ms: 25,000 rows a second at
        // most); then the writer lingers over the last five, and the clock does not move, so it stays at 30.
        await UntilAsync(time, () => writer.Written >= 30 && time.ParkedDelays > 0);
        Assert.Equal(30, writer.Written);

        // The last five wait for the linger, then go.
        time.Advance(TimeSpan.FromMilliseconds(20));
        await writer.FlushAsync();
        Assert.Equal(35, writer.Written);
    }

    /// <summary>
    /// Waits for a condition of the writer's own loop, looking again at each change of the clock's timers: the loop ends
    /// every burst of writes by lingering on a timer of <paramref name="time"/>, so each state awaited here begins with
    /// one, and nothing is polled. The clock never moves meanwhile; the real-time bound only ends a test that fails.
    /// </summary>
    private static async Task UntilAsync(Baton.Core.Tests.TestSupport.TrackingTimeProvider time, Func<bool> condition)
    {
        while (true)
        {
            // Taken before looking, so a timer made just after the look still wakes this wait.
            var changed = time.Changed;
            if (condition())
            {
                return;
            }
            await changed.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task Since_until_and_day_grouping_use_utc_boundaries()
    {
        await using (var writer = Writer())
        {
            writer.TryRecord(Entry(0, time: new DateTimeOffset(2026, 1, 1, 23, 59, 59, TimeSpan.Zero)));
            writer.TryRecord(Entry(1, time: new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero)));
            writer.TryRecord(Entry(2, time: new DateTimeOffset(2026, 1, 3, 8, 0, 0, TimeSpan.Zero)));
        }
        var days = LedgerQuery.Run(_db.Path, new CostQuery(GroupBy: CostGrouping.Day));
        Assert.Equal(["2026-01-01", "2026-01-02", "2026-01-03"], days.Breakdown.Select(g => g.Key).Order());

        var range = LedgerQuery.Run(_db.Path, new CostQuery(Since: new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero), Until: new DateTimeOffset(2026, 1, 3, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(1, range.Total.Requests);
    }

    [Fact]
    public async Task Disposing_writes_every_queued_row()
    {
        var writer = Writer(batchSize: 50);
        for (var i = 0; i < 5000; i++)
        {
            writer.TryRecord(Entry(i));
        }
        await writer.DisposeAsync();

        Assert.Equal(5000, _db.Scalar("SELECT COUNT(*) FROM ledger"));
        Assert.False(writer.TryRecord(Entry(0)));
    }

    [Fact]
    public async Task A_writer_abandoned_mid_load_leaves_a_readable_file_with_every_committed_row()
    {
        // The writer is never disposed nor flushed at the end: like a process that stops abruptly, whatever was
        // committed is on disk (WAL), and another connection reads it while the writer may still be writing.
        var writer = Writer(batchSize: 25);
        for (var i = 0; i < 200; i++)
        {
            writer.TryRecord(Entry(i));
        }
        await writer.FlushAsync();
        var committed = writer.Written;
        for (var i = 0; i < 20_000; i++)
        {
            writer.TryRecord(Entry(i));
        }

        Assert.Equal("wal", _db.Text("PRAGMA journal_mode"));
        Assert.Equal("ok", _db.Text("PRAGMA integrity_check"));
        var rows = _db.Scalar("SELECT COUNT(*) FROM ledger");
        Assert.True(rows >= committed, $"{rows} rows, {committed} committed");
        // Only whole rows: every committed row has all its fields.
        Assert.Equal(0, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE model IS NULL OR cost_picousd IS NULL OR prompt_tokens IS NULL"));
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Flush_waits_only_for_rows_queued_before_it()
    {
        await using var writer = Writer();
        writer.TryRecord(Entry(1));
        await writer.FlushAsync();
        Assert.Equal(1, _db.Scalar("SELECT COUNT(*) FROM ledger"));
    }

    [Fact]
    public async Task A_ledger_written_before_cache_write_counts_gains_the_new_columns_and_keeps_its_rows()
    {
        // The first release's table, with one row.
        using (var old = _db.Open())
        {
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE ledger (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, session TEXT, api_key TEXT, user TEXT, tags TEXT,
                    task TEXT, tier TEXT, model TEXT NOT NULL, deployment TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
                    cached_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
                    cost_picousd INTEGER NOT NULL, priced INTEGER NOT NULL, latency_ms REAL NOT NULL, cached INTEGER NOT NULL,
                    fallback INTEGER NOT NULL, status INTEGER NOT NULL, estimated INTEGER NOT NULL);
                INSERT INTO ledger VALUES (1, 0, 's1', NULL, NULL, NULL, NULL, NULL, 'm', 'p/m', 100, 0, 10, 0, 5000000, 1, 1.0, 0, 0, 200, 0);
                """;
            create.ExecuteNonQuery();
        }

        await using (var writer = Writer())
        {
            writer.TryRecord(Entry(1) with { Usage = TokenUsage.Of(1000, 10, cached: 200, cacheWrite: 700) });
            await writer.FlushAsync();
        }

        var report = LedgerQuery.Run(_db.Path, new CostQuery());
        Assert.Equal(2, report.Total.Requests);
        Assert.Equal(700, report.Total.CacheWriteTokens);
        Assert.Equal(1100, report.Total.PromptTokens);
        Assert.Equal(0, _db.Scalar("SELECT cache_write_tokens FROM ledger WHERE id = 1"));
    }

    [Fact]
    public async Task The_stored_columns_recompute_the_cost()
    {
        // Claude Sonnet 4.5: $3 input, $0.30 cache read, $3.75 cache write, $15 output.
        var sonnet = Baton.Accounting.Catalog.PriceCatalog.Embedded.Find("claude-sonnet-4-5", "anthropic")!.Model.Prices.At(DateTimeOffset.UnixEpoch);
        var usage = TokenUsage.Of(10_000, 500, cached: 3000, cacheWrite: 6000);
        await using (var writer = Writer())
        {
            writer.TryRecord(Entry(0) with { Usage = usage, CostUsd = Baton.Accounting.CostCalculator.Cost(usage, sonnet) });
            await writer.FlushAsync();
        }

        var t = LedgerQuery.Run(_db.Path, new CostQuery()).Total;
        var recomputed = ((t.PromptTokens - t.CachedTokens - t.CacheWriteTokens) * 3m + t.CachedTokens * 0.30m + t.CacheWriteTokens * 3.75m + t.CompletionTokens * 15m) / 1_000_000m;
        Assert.Equal(t.CostUsd, recomputed);
        Assert.Equal(0.0339m, t.CostUsd);
    }

    [Fact]
    public async Task Filters_and_groupings_by_key_user_tag_session_provider_and_deployment()
    {
        var at = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        await using (var writer = Writer())
        {
            writer.TryRecord(Entry(0) with { ApiKey = "key-a", User = "alice", Tags = "team-a,nightly", Deployment = "openai/gpt-4o", Model = "gpt", CostUsd = 0.01m });
            writer.TryRecord(Entry(1) with { ApiKey = "key-a", User = "alice", Tags = "team-b", Deployment = "azure/gpt-4o", Model = "gpt", CostUsd = 0.02m, Session = "s2" });
            writer.TryRecord(Entry(2) with { ApiKey = "key-b", User = "bob", Tags = "team-a", Deployment = "anthropic/claude", Model = "claude", CostUsd = 0.04m, Continuation = true });
            writer.TryRecord(Entry(3) with { ApiKey = "key-b", User = "bob", Tags = "team_a", Deployment = "anthropic/claude", Model = "claude", Cached = true, CostUsd = 0m });
            await writer.FlushAsync();
        }

        Assert.Equal(0.03m, LedgerQuery.Run(_db.Path, new CostQuery { Key = "key-a" }).Total.CostUsd);
        Assert.Equal(0.04m, LedgerQuery.Run(_db.Path, new CostQuery { User = "bob" }).Total.CostUsd);
        // A tag matches whole tags only: 'team_a' is not 'team-a', and '_' is no wildcard.
        Assert.Equal(0.05m, LedgerQuery.Run(_db.Path, new CostQuery { Tag = "team-a" }).Total.CostUsd);
        Assert.Equal(0.03m, LedgerQuery.Run(_db.Path, new CostQuery { Model = "gpt" }).Total.CostUsd);
        Assert.Equal(0.01m, LedgerQuery.Run(_db.Path, new CostQuery(SessionId: "s1", Until: at.AddMinutes(1)) { Model = "gpt" }).Total.CostUsd);

        var byProvider = LedgerQuery.Run(_db.Path, new CostQuery(GroupBy: CostGrouping.Provider));
        Assert.Equal(["anthropic", "azure", "openai"], byProvider.Breakdown.Select(g => g.Key));
        var claude = byProvider.Breakdown[0].Totals;
        // The continuation row is an attempt of a request counted elsewhere; the cache hit is a request but no attempt.
        Assert.Equal((1L, 1L, 1L), (claude.Requests, claude.Attempts, claude.CacheHits));
        Assert.Equal(["anthropic/claude", "azure/gpt-4o", "openai/gpt-4o"], LedgerQuery.Run(_db.Path, new CostQuery(GroupBy: CostGrouping.Deployment)).Breakdown.Select(g => g.Key));
        Assert.Equal(["s1", "s2"], LedgerQuery.Run(_db.Path, new CostQuery(GroupBy: CostGrouping.Session)).Breakdown.Select(g => g.Key));
    }
}
