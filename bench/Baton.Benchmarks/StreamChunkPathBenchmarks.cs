using System.Buffers;
using BenchmarkDotNet.Attributes;
using Baton.Caching;
using Baton.Engine;
using Baton.Providers;
using Baton.Providers.OpenAi;
using Baton.Providers.Secrets;

namespace Baton.Benchmarks;

/// <summary>
/// Everything the gateway does to the chunks of one streamed answer from an OpenAI-compatible upstream (the
/// benchmark's 17 events), with one provider key configured and the response cache on: the provider's check and
/// usage tap, the key scrubber, the engine's resume tap, the cache's assembler and the stored answer, and the
/// copy of each event into the response's buffer.
/// </summary>
[MemoryDiagnoser]
public class StreamChunkPathBenchmarks
{
    private readonly List<byte[]> _events = [];
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly SecretRedactor _redactor = new();

    [GlobalSetup]
    public void Setup()
    {
        foreach (var line in System.Text.Encoding.UTF8.GetString(Payloads.Stream).Split('\n'))
        {
            if (line.StartsWith("data: {", StringComparison.Ordinal))
            {
                _events.Add(System.Text.Encoding.UTF8.GetBytes(line["data: ".Length..]));
            }
        }
        _redactor.Add("sk-proj-Qm7Lx2Vb9Tz4Rw8Kp1HdYc5Ne3Ua6Oi0Gs");
    }

    /// <summary>The one reading of each chunk alone (compare <c>SseTapBenchmarks.InspectChunks</c>, the usage tap it replaces).</summary>
    [Benchmark]
    public int ReadChunks()
    {
        using var reading = new StreamChunkReader();
        var texts = 0;
        foreach (var json in _events)
        {
            reading.Read(json);
            texts += reading.Texts.Count + (reading.Usage?.TotalTokens ?? 0);
        }
        return texts;
    }

    /// <summary>The chunks as the SSE reader hands them over, through every consumer, and the answer stored.</summary>
    [Benchmark]
    public int PerChunkPath()
    {
        using var reading = new StreamChunkReader();
        var scrubber = new StreamSecretScrubber(_redactor.Secrets);
        using var tap = new StreamTextTap();
        using var assembler = new StreamAssembler();
        _output.ResetWrittenCount();
        TokenUsage usage = default;
        foreach (var json in _events)
        {
            reading.Read(json);
            if (reading.Usage is { } reported)
            {
                usage = reported;
            }
            scrubber.Accept(new StreamChunk(json, reading.IsUsageOnly, reading));
            while (scrubber.TryTake(out var chunk))
            {
                Forward(chunk, tap, assembler);
            }
        }
        scrubber.Complete();
        while (scrubber.TryTake(out var chunk))
        {
            Forward(chunk, tap, assembler);
        }
        return (assembler.ToCompletion(usage)?.Length ?? 0) + (tap.HasFinished ? 1 : 0);
    }

    private void Forward(in StreamChunk chunk, StreamTextTap tap, StreamAssembler assembler)
    {
        tap.Observe(chunk);
        assembler.Add(chunk);
        _output.Write("data: "u8);
        _output.Write(chunk.Json.Span);
        _output.Write("\n\n"u8);
    }
}
