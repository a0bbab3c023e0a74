using BenchmarkDotNet.Attributes;
using Baton.Engine;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Benchmarks;

/// <summary>
/// What the gateway does to every chunk of an OpenAI-compatible stream (17 events here): split the events,
/// check each chunk and tap its usage, and remember the delivered text for a resumed stream.
/// </summary>
[MemoryDiagnoser]
public class SseTapBenchmarks
{
    private readonly List<byte[]> _events = [];

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
    }

    /// <summary>Reading the events off the upstream's body into the reused buffer.</summary>
    [Benchmark]
    public async Task<int> ReadEvents()
    {
        using var reader = new SseEventReader(new MemoryStream(Payloads.Stream, writable: false));
        var count = 0;
        await foreach (var item in reader.ReadAsync(CancellationToken.None))
        {
            count += item.Data.Length;
        }
        return count;
    }

    /// <summary>The usage tap: one forward pass over each chunk.</summary>
    [Benchmark]
    public int InspectChunks()
    {
        var total = 0;
        foreach (var chunk in _events)
        {
            var findings = OpenAiPayloadInspector.Inspect(chunk);
            total += findings.Usage?.TotalTokens ?? 0;
        }
        return total;
    }

    /// <summary>The resume tap (engine): the text delivered so far.</summary>
    [Benchmark]
    public int TextTap()
    {
        var tap = new StreamTextTap();
        foreach (var chunk in _events)
        {
            tap.Observe(chunk);
        }
        return tap.HasText ? 1 : 0;
    }

    /// <summary>The inspection of a non-streamed answer.</summary>
    [Benchmark]
    public int InspectCompletion() => OpenAiPayloadInspector.Inspect(Payloads.Completion).Usage?.TotalTokens ?? 0;
}
