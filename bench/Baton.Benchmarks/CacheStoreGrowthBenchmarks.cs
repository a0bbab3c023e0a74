using BenchmarkDotNet.Attributes;
using Baton.Caching;
using Baton.Providers;

namespace Baton.Benchmarks;

/// <summary>
/// The SQLite cache store as it grows: saving answers (queued, then committed by the background writer; the flush
/// at the end of each invocation waits for the file), a hit on a hot answer, and a lookup that must read the file
/// (a miss), at 0, 3,000, 10,000 and 50,000 entries. With <c>Entries</c> above 0 the cap is set to that many
/// answers, so every write also evicts one: the steady state of a full cache. Run as docs/benchmarks.md says
/// (<c>--inProcess --launchCount 1 --warmupCount 2 --iterationCount 10</c>).
/// </summary>
[MemoryDiagnoser]
public class CacheStoreGrowthBenchmarks
{
    private const int Batch = 1000;
    private string _directory = "";
    private SqliteCacheStore _store = null!;
    private long _next;

    [Params(0, 3_000, 10_000, 50_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("baton-cache-bench-").FullName;
        var path = Path.Combine(_directory, "cache.db");
        var maxBytes = Entries == 0 ? CacheStores.DefaultMaxBytes : Entries * Answer("k0000000000").Size;
        using (var filling = new SqliteCacheStore(path, maxBytes, TimeProvider.System))
        {
            for (var i = 0; i < Entries; i++)
            {
                filling.Save(Answer(Key()));
                if (i % 5_000 == 4_999)
                {
                    filling.FlushAsync().GetAwaiter().GetResult();
                }
            }
        }
        // Reopened, so that nothing but the file holds the entries made above.
        _store = new SqliteCacheStore(path, maxBytes, TimeProvider.System);
        _store.Save(Answer("hot"));
        _store.FlushAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Per answer: saved, then (amortised over the batch) committed with its eviction.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task Save()
    {
        for (var i = 0; i < Batch; i++)
        {
            _store.Save(Answer(Key()));
        }
        await _store.FlushAsync();
    }

    /// <summary>A lookup served from memory (the use is recorded behind it).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int HitHot()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++)
        {
            found += _store.Find("hot") is null ? 0 : 1;
        }
        return found;
    }

    /// <summary>A lookup that reads the file's index and finds nothing: what every new question costs.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int MissFile()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++)
        {
            found += _store.Find("absent" + i) is null ? 0 : 1;
        }
        return found;
    }

    private string Key() => "k" + (_next++).ToString("D10", System.Globalization.CultureInfo.InvariantCulture);

    private static CachedAnswer Answer(string key)
    {
        var now = DateTimeOffset.UtcNow;
        return new CachedAnswer(key, "bench", "static/bench-upstream", Payloads.Completion, TokenUsage.Of(20, 12), now, now.AddHours(1));
    }
}
