using BenchmarkDotNet.Attributes;
using Baton.Caching;
using Baton.Configuration;
using Baton.Providers;
using Baton.Requests;
using Baton.Resilience;
using Baton.Routing;

namespace Baton.Benchmarks;

/// <summary>
/// The response cache's work for one request that skips the lookup (<c>Cache-Control: no-cache</c>) and stores its
/// answer, with the default SQLite store, as the team configuration does on every request: the lookup (key, lead),
/// the save and the lookup's release. <c>SameAnswer</c>: every request has the overhead benchmark's body and answer
/// (the answer held is kept); <c>NewAnswer</c>: every request has a body of its own, so every save queues a write
/// (the background writer's commits are paid by a flush every 1,000 saves, amortised). Run as docs/benchmarks.md says.
/// </summary>
[MemoryDiagnoser]
public class CacheStorePathBenchmarks
{
    private const int Batch = 1000;
    private static readonly TokenUsage Usage = TokenUsage.Of(24, 12);
    private string _directory = "";
    private SqliteCacheStore _store = null!;
    private ResponseCache _cache = null!;
    private ModelRoute _route = null!;
    private ChatRequest _same = null!;
    private ChatRequest[] _distinct = [];
    private byte[] _otherCompletion = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("baton-cache-path-").FullName;
        _store = new SqliteCacheStore(Path.Combine(_directory, "cache.db"), CacheStores.DefaultMaxBytes, TimeProvider.System);
        _cache = new ResponseCache(_store, new CacheOptions { Mode = CacheModes.On }, TimeProvider.System);
        _route = new ModelRoute("bench", [], new ResilienceSettings());
        _same = NoCache(Payloads.Request);
        _otherCompletion = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(Payloads.Completion).Replace("\"id\":\"", "\"id\":\"x", StringComparison.Ordinal));
        var text = System.Text.Encoding.UTF8.GetString(Payloads.Request);
        _distinct = Enumerable.Range(0, 20_000)
            .Select(i => NoCache(System.Text.Encoding.UTF8.GetBytes(text.Replace("Write one sentence", $"[{i}] Write one sentence", StringComparison.Ordinal))))
            .ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Per request: key, lead, the identical answer kept (no copy, no write), release.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task SameAnswer()
    {
        for (var i = 0; i < Batch; i++)
        {
            await StoreAsync(_same, Payloads.Completion);
        }
    }

    /// <summary>Per request: key, lead, the answer queued and written (its share of the writer's commit), release.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task NewAnswer()
    {
        for (var i = 0; i < Batch; i++, _next++)
        {
            // A body seen before gets the other answer: the one held for its key never stands for it.
            await StoreAsync(_distinct[_next % _distinct.Length], _next / _distinct.Length % 2 == 0 ? Payloads.Completion : _otherCompletion);
        }
        await _store.FlushAsync();
    }

    private async ValueTask StoreAsync(ChatRequest request, byte[] answer)
    {
        using var lookup = await _cache.LookupAsync(request, _route, CancellationToken.None);
        lookup.Save("bench", "static/bench-upstream", (ReadOnlyMemory<byte>)answer, Usage);
    }

    private static ChatRequest NoCache(byte[] body)
    {
        var request = ChatRequestParser.Parse(body);
        request.Options = request.Options with { Cache = new CacheDirectives(Lookup: false, Store: true) };
        return request;
    }
}
