using BenchmarkDotNet.Attributes;
using Baton.Caching;

namespace Baton.Benchmarks;

/// <summary>
/// The response cache's key for every request (the cache is on in the overhead benchmark): the body made
/// canonical (keys sorted, numbers normalised) and hashed with SHA-256.
/// </summary>
[MemoryDiagnoser]
public class CacheKeyBenchmarks
{
    [Benchmark(Baseline = true)]
    public string Key() => CacheKey.Compute(Payloads.Request, "bench-upstream");

    [Benchmark]
    public string KeyLongConversation() => CacheKey.Compute(Payloads.LongRequest, "bench-upstream");
}
