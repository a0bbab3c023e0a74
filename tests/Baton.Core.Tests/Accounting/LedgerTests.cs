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
    public async Task Whole_batches_are_written_at_once_and_only_a_partial_batch_lingers()
    {
        var time = new Baton.Core.Tests.TestSupport.TrackingTimeProvider(DateTimeOffset.UnixEpoch);
        await using var writer = new LedgerWriter(_db.Path, 10, NullLogger<LedgerWriter>.Instance, time);
        for (var i = 0; i < 35; i++)
        {
            writer.TryRecord(Entry(i));
        }

        // The first row may have found the writer idle and made it linger: once it waits, the clock moves past the linger.
        await Eventually(() => writer.Written > 0 || time.ParkedDelays > 0);
        if (writer.Written == 0)
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
        }
        // The next whole batches go without the clock moving (before, each one waited 20 ms: 25,000 rows a second at
        // most); then the writer lingers over the last five, and the clock does not move, so it stays at 30.
        await Eventually(() => writer.Written >= 30 && time.ParkedDelays > 0);
        Assert.Equal(30, writer.Written);

        // The last five wait for the linger, then go.
        time.Advance(TimeSpan.FromMilliseconds(20));
        await writer.FlushAsync();
        Assert.Equal(35, writer.Written);
    }

    /// <summary>Waits for a condition (the writer runs on its own loop), polling; the clock never moves meanwhile.</summary>
    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
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
}
