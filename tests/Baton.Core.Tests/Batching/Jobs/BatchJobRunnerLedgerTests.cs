using System.Text;
using System.Text.Json;
using Baton.Accounting;
using Baton.Accounting.Ledger;
using Baton.Batching;
using Baton.Batching.Jobs;
using Baton.Core.Tests.TestSupport;
using Baton.Providers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Core.Tests.Batching.Jobs;

/// <summary>
/// A batch's items and their ledger rows: stored together, delivered to the ledger once, however a run was cut short.
/// Real SQLite files for the jobs and the ledger, the engine in process with a scripted provider.
/// </summary>
public sealed class BatchJobRunnerLedgerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-jobledger-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string LedgerPath => Path.Combine(_directory, "baton.db");

    private static string Line(string id) =>
        $$$"""{"custom_id":"{{{id}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hello {{{id}}}"}]}}""";

    private static LedgerEntry Row(string attemptId) => new()
    {
        Time = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        AttemptId = attemptId,
        Model = "m",
        Deployment = "a/m",
        Usage = TokenUsage.Of(10, 5),
        CostUsd = 0.001m,
    };

    [Fact]
    public async Task A_batch_resumed_after_a_crash_between_storing_items_and_committing_their_ledger_rows_bills_each_item_once()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        await using var ledger = new LedgerWriter(LedgerPath, 100, NullLogger<LedgerWriter>.Instance);
        harness.Accounting = new CostAccountant(new PriceTable(harness.Options.Prices), harness.Time, ledger);
        using var store = new BatchJobStore(Path.Combine(_directory, "jobs.db"));
        var runner = new BatchJobRunner(store, new BatchJobQueue(), new BatchExecutor(harness.Engine, harness.Time, 2), NullLogger<BatchJobRunner>.Instance);
        var input = Encoding.UTF8.GetBytes(string.Join('\n', Line("a"), Line("b"), Line("c"), Line("d")) + "\n");
        var file = store.AddFile(FilePurposes.Batch, "in.jsonl", new MemoryStream(input), input.Length, 1000);
        var job = (await runner.CreateAsync(file, null, null, CancellationToken.None))!;

        // What a process killed mid-run leaves: a and b answered and stored with their rows; a's row reached the ledger
        // (the store had not yet heard it was committed), b's was still queued in memory and died with the process.
        Assert.True(store.SaveItem(job.Id, 1, "a", false, Encoding.UTF8.GetBytes("{\"custom_id\":\"a\"}\n"), JsonSerializer.Serialize(new List<LedgerEntry> { Row("attempt-a") })));
        Assert.True(store.SaveItem(job.Id, 2, "b", false, Encoding.UTF8.GetBytes("{\"custom_id\":\"b\"}\n"), JsonSerializer.Serialize(new List<LedgerEntry> { Row("attempt-b") })));
        await ledger.RecordAsync([Row("attempt-a")]);

        // The next start delivers what is pending, then the batch resumes.
        await runner.DeliverLedgerRowsAsync(null, CancellationToken.None);
        await runner.RunAsync(job.Id, CancellationToken.None);

        var done = store.GetBatch(job.Id)!;
        Assert.Equal((BatchStatuses.Completed, 4, 0), (done.Status, done.Completed, done.Failed));
        Assert.Equal(2, harness.Providers["a"].Calls);
        Assert.Empty(store.UndeliveredLedgerRows(null, 10));
        using var connection = new SqliteConnection($"Data Source={LedgerPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COUNT(DISTINCT attempt_id), SUM(attempt_id IN ('attempt-a', 'attempt-b')) FROM ledger";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        // One row per item: a and b from before the crash, once each; c and d from the resumed run.
        Assert.Equal((4L, 4L, 2L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
    }

    [Fact]
    public async Task A_batch_ends_while_the_ledger_cannot_be_written_and_its_rows_are_delivered_once_it_can()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        // The writer's own clock, moved by the test through its linger and retry pauses.
        var ledgerTime = new TrackingTimeProvider(DateTimeOffset.UnixEpoch);
        await using var ledger = new LedgerWriter(LedgerPath, 100, NullLogger<LedgerWriter>.Instance, ledgerTime);
        harness.Accounting = new CostAccountant(new PriceTable(harness.Options.Prices), harness.Time, ledger);
        using var store = new BatchJobStore(Path.Combine(_directory, "jobs.db"));
        var runner = new BatchJobRunner(store, new BatchJobQueue(), new BatchExecutor(harness.Engine, harness.Time, 2), NullLogger<BatchJobRunner>.Instance);
        var input = Encoding.UTF8.GetBytes(string.Join('\n', Line("a"), Line("b")) + "\n");
        var job = (await runner.CreateAsync(store.AddFile(FilePurposes.Batch, "in.jsonl", new MemoryStream(input), input.Length, 1000), null, null, CancellationToken.None))!;
        LedgerSql("CREATE TRIGGER refuse BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");

        await ledgerTime.DriveAsync(() => runner.RunAsync(job.Id, CancellationToken.None), TimeSpan.FromSeconds(1));

        // Every answer is stored and the batch has ended; the rows wait in the jobs database.
        var done = store.GetBatch(job.Id)!;
        Assert.Equal((BatchStatuses.Completed, 2), (done.Status, done.Completed));
        Assert.Equal(2, store.UndeliveredLedgerRows(null, 10).Count);
        Assert.Equal(0L, LedgerSql("SELECT COUNT(*) FROM ledger"));

        LedgerSql("DROP TRIGGER refuse;");
        await ledgerTime.DriveAsync(() => runner.DeliverLedgerRowsAsync(null, CancellationToken.None), TimeSpan.FromSeconds(1));
        Assert.Empty(store.UndeliveredLedgerRows(null, 10));
        Assert.Equal(2L, LedgerSql("SELECT COUNT(*) FROM ledger"));
    }

    private long LedgerSql(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={LedgerPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task An_item_refused_before_it_is_asked_fails_alone_and_bills_nothing()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        await using var ledger = new LedgerWriter(LedgerPath, 100, NullLogger<LedgerWriter>.Instance);
        harness.Accounting = new CostAccountant(new PriceTable(harness.Options.Prices), harness.Time, ledger);
        using var store = new BatchJobStore(Path.Combine(_directory, "jobs.db"));
        var runner = new BatchJobRunner(store, new BatchJobQueue(), new BatchExecutor(harness.Engine, harness.Time, 2), NullLogger<BatchJobRunner>.Instance);
        var refused = Line("bad").Replace("\"messages\"", "\"metadata\":{\"cache_ttl\":\"NaN\"},\"messages\"", StringComparison.Ordinal);
        var input = Encoding.UTF8.GetBytes(string.Join('\n', Line("a"), refused, Line("c")) + "\n");
        var file = store.AddFile(FilePurposes.Batch, "in.jsonl", new MemoryStream(input), input.Length, 1000);

        var job = (await runner.CreateAsync(file, null, null, CancellationToken.None))!;
        Assert.Equal((BatchStatuses.InProgress, 3), (job.Status, job.Total));
        await runner.RunAsync(job.Id, CancellationToken.None);

        var done = store.GetBatch(job.Id)!;
        Assert.Equal((BatchStatuses.Completed, 2, 1), (done.Status, done.Completed, done.Failed));
        Assert.Equal(2, harness.Providers["a"].Calls);
        using var errors = store.OpenFileContent(done.ErrorFileId!)!;
        var error = JsonDocument.Parse(errors).RootElement;
        Assert.Equal("bad", error.GetProperty("custom_id").GetString());
        Assert.Equal(400, error.GetProperty("error").GetProperty("status_code").GetInt32());
        Assert.Equal(2, LedgerQuery.Run(LedgerPath, new CostQuery()).Total.Requests);
    }
}
