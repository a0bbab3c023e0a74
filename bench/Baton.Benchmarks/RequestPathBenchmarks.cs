using BenchmarkDotNet.Attributes;
using Baton.Accounting;
using Baton.Caching;
using Baton.Providers.OpenAi;
using Baton.Requests;
using Baton.Telemetry;

namespace Baton.Benchmarks;

/// <summary>
/// Everything Baton reads from one non-streamed exchange's bodies, end to end: the request parsed, its cache key,
/// its prompt tokens counted, and the answer inspected as the provider, the engine (is it complete, to be cached?)
/// and a recorded span (its id, model and finish reasons) need it. The benchmark's request and answer, and the
/// 41-message conversation with the same answer.
/// </summary>
[MemoryDiagnoser]
public class RequestPathBenchmarks
{
    [GlobalSetup]
    public void Setup() =>
        // The encoding's vocabulary is loaded once per process, outside the measurement.
        PromptTokenCounter.Count("warm up", "gpt-4o");

    [Benchmark(Baseline = true)]
    public int Exchange() => Run(Payloads.Request);

    [Benchmark]
    public int ExchangeLongConversation() => Run(Payloads.LongRequest);

    private static int Run(byte[] body)
    {
        var request = ChatRequestParser.Parse(body);
        var key = CacheKey.Compute(request, "bench-upstream");
        var tokens = PromptTokenCounter.CountPrompt(request);
        // One pass: the provider's usage and error, the engine's "complete?", the span's id, model and finish reasons.
        var answer = CompletionFacts.Read(Payloads.Completion);
        var complete = answer.IsComplete;
        var facts = new ResponseFacts();
        facts.Observe(answer);
        return key.Length + tokens + (answer.Usage?.TotalTokens ?? 0) + (complete ? 1 : 0) + facts.FinishReasons.Count;
    }
}
