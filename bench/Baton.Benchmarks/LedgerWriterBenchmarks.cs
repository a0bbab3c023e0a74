using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Baton.Accounting.Ledger;
using Baton.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Benchmarks;

/// <summary>
/// The SQLite ledger's writer on a file that already holds millions of rows: each invocation queues
/// <see cref="Batch"/> rows as requests do (<see cref="LedgerWriter.TryRecord"/>) and waits until they are committed,
/// so the time per operation is the writer's cost per row and its inverse the rows a second it sustains. The file is
/// filled once with rows whose attempt ids are random, as every file written so far is; the rows written then carry
/// random (<c>Random</c>) or time-ordered (<c>TimeOrdered</c>, what requests give them now) attempt ids. Run as
/// docs/benchmarks.md says (<c>--filter '*LedgerWriter*'</c>: the class sets its own short in-process job, whose
/// time limit allows for filling the file).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(FillingConfig))]
public class LedgerWriterBenchmarks
{
    /// <summary>A short run in process, allowed the minutes that filling millions of rows takes on a busy machine.</summary>
    private sealed class FillingConfig : ManualConfig
    {
        public FillingConfig() => AddJob(Job.ShortRun.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true)));
    }

    private const int Batch = 10_000;
    private string Template => Path.Combine(Path.GetTempPath(), $"baton-ledger-bench-{Rows}.db");
    private string _directory = "";
    private LedgerWriter _writer = null!;
    private long _time;

    [Params(3_000_000)]
    public int Rows { get; set; }

    [Params("Random", "TimeOrdered")]
    public string Ids { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        if (!File.Exists(Template))
        {
            // Filled aside and renamed, so an interrupted fill is never taken for a full file.
            Fill(Template + ".filling", Rows);
            File.Move(Template + ".filling", Template, overwrite: true);
        }
        _directory = Directory.CreateTempSubdirectory("baton-ledger-bench-").FullName;
        var path = Path.Combine(_directory, "baton.db");
        File.Copy(Template, path);
        _time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _writer = new LedgerWriter(path, 500, NullLogger<LedgerWriter>.Instance);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Per row: queued as a request queues it, then (amortised over the batch) committed.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task Write()
    {
        for (var i = 0; i < Batch; i++)
        {
            _writer.TryRecord(Entry());
        }
        await _writer.FlushAsync();
    }

    private LedgerEntry Entry()
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(++_time);
        return new LedgerEntry
        {
            Time = time,
            AttemptId = (Ids == "Random" ? Guid.NewGuid() : Guid.CreateVersion7(time)).ToString("N"),
            ApiKey = "key-1",
            Model = "bench",
            Deployment = "static/bench-upstream",
            Usage = TokenUsage.Of(12, 8),
            CostUsd = 0.0000123m,
            LatencyMs = 1.5,
        };
    }

    /// <summary>Fills a ledger file with <paramref name="rows"/> rows in one statement (a few seconds a million).</summary>
    private static void Fill(string path, int rows)
    {
        File.Delete(path);
        using var connection = LedgerDatabase.Open(path);
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
            INSERT INTO ledger (time_ms, session, api_key, user, tags, task, tier, model, deployment, prompt_tokens, cached_tokens,
                completion_tokens, reasoning_tokens, cost_picousd, priced, latency_ms, cached, fallback, status, estimated,
                cache_write_tokens, continuation, project, attempt_id)
            SELECT 1700000000000 + i, NULL, 'key-1', NULL, NULL, NULL, NULL, 'bench', 'static/bench-upstream', 12, 0, 8, 0, 12300000,
                1, 1.5, 0, 0, 200, 0, 0, 0, NULL, lower(hex(randomblob(16))) FROM n
            """;
        command.Parameters.AddWithValue("$rows", rows);
        command.ExecuteNonQuery();
        transaction.Commit();
    }
}
