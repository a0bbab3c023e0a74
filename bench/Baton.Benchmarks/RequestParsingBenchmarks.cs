using BenchmarkDotNet.Attributes;
using Baton.Configuration;
using Baton.Requests;

namespace Baton.Benchmarks;

/// <summary>The gateway's first step: validating the client's body and reading the fields routing, limits and costs need; then the upstream body spliced from it.</summary>
[MemoryDiagnoser]
public class RequestParsingBenchmarks
{
    private readonly RequestDefaults _defaults = new();
    private ChatRequest _parsed = null!;
    private ChatRequest _parsedStream = null!;

    [GlobalSetup]
    public void Setup()
    {
        _parsed = ChatRequestParser.Parse(Payloads.Request);
        _parsedStream = ChatRequestParser.Parse(Payloads.StreamRequest);
    }

    [Benchmark(Baseline = true)]
    public ChatRequest Parse() => ChatRequestParser.Parse(Payloads.Request);

    [Benchmark]
    public ChatRequest ParseLongConversation() => ChatRequestParser.Parse(Payloads.LongRequest);

    [Benchmark]
    public int RewriteModel()
    {
        using var body = ChatRequestRewriter.Rewrite(_parsed, "bench-upstream", _defaults);
        return body.Length;
    }

    [Benchmark]
    public int RewriteModelStreamed()
    {
        using var body = ChatRequestRewriter.Rewrite(_parsedStream, "bench-upstream", _defaults);
        return body.Length;
    }
}
