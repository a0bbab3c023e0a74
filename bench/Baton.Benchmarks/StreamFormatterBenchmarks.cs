using System.Buffers;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Baton.Gateway.Fronts.Anthropic;
using Baton.Gateway.Fronts.Responses;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Benchmarks;

/// <summary>
/// The Anthropic Messages and Responses fronts writing the events of one streamed answer (the benchmark's 17 chunks,
/// each with the reading the provider made of it as it arrived), into a response buffer.
/// </summary>
[MemoryDiagnoser]
public class StreamFormatterBenchmarks
{
    private readonly List<byte[]> _events = [];
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly StreamChunkReader _reader = new();

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

    [Benchmark]
    public int AnthropicEvents()
    {
        _output.ResetWrittenCount();
        using var writer = new AnthropicEventWriter(_output);
        foreach (var json in _events)
        {
            _reader.Read(json);
            writer.Chunk(new StreamChunk(json, _reader.IsUsageOnly, _reader));
        }
        writer.Finish(null);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int ResponsesEvents()
    {
        _output.ResetWrittenCount();
        using var translator = new ResponseStreamTranslator(new ResponseObject(new ResponsesRequest { Model = "bench", InputItems = [] }, "resp_bench", 1735689600));
        var first = true;
        foreach (var json in _events)
        {
            _reader.Read(json);
            var chunk = new StreamChunk(json, _reader.IsUsageOnly, _reader);
            if (first)
            {
                translator.Start(chunk, _output);
                first = false;
            }
            translator.OnChunk(chunk, _output);
        }
        translator.Finish(new TokenUsage(42, 15, 57), _output);
        return _output.WrittenCount;
    }
}
