using BenchmarkDotNet.Attributes;
using Baton.Accounting.Ledger;
using Baton.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Benchmarks;

/// <summary>
/// The SQLite ledger's cost per row as a gateway pays it, on a fresh file (the file's growth is
/// <see cref="LedgerWriterBenchmarks"/>'s subject): each invocation queues <see cref="Batch"/> rows as requests do
/// (<see cref="LedgerWriter.TryRecord"/>), in the team benchmark's shape (a key, no session, time-ordered attempt ids),
/// and waits until the writer has committed them. Run as docs/benchmarks.md says.
/// </summary>
[MemoryDiagnoser]
public class LedgerRowBenchmarks
{
    private const int Batch = 5_000;
    private string _directory = "";
    private LedgerWriter _writer = null!;
    private long _time;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("baton-ledger-rows-").FullName;
        _time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _writer = new LedgerWriter(Path.Combine(_directory, "baton.db"), 500, NullLogger<LedgerWriter>.Instance);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Per row: queued, then (amortised over the batch) committed.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task Write()
    {
        for (var i = 0; i < Batch; i++)
        {
            var time = DateTimeOffset.FromUnixTimeMilliseconds(++_time);
            _writer.TryRecord(new LedgerEntry
            {
                Time = time,
                AttemptId = Guid.CreateVersion7(time).ToString("N"),
                ApiKey = "key-1",
                Model = "bench",
                Deployment = "static/bench-upstream",
                Usage = TokenUsage.Of(24, 12),
                CostUsd = 0.0000123m,
                LatencyMs = 1.5,
            });
        }
        await _writer.FlushAsync();
    }
}
