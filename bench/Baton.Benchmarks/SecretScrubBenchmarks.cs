using BenchmarkDotNet.Attributes;
using Baton.Providers;
using Baton.Providers.Secrets;

namespace Baton.Benchmarks;

/// <summary>
/// What removing provider keys from answers costs on the hot path, with one configured key and with six (a
/// gateway with six providers searches every answer for every key). The answers hold no key: the common case.
/// </summary>
[MemoryDiagnoser]
public class SecretScrubBenchmarks
{
    private readonly List<byte[]> _events = [];
    private SecretRedactor _redactor = new();
    private byte[] _errorBody = [];

    [Params(1, 6)]
    public int Keys { get; set; }

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
        _redactor = new SecretRedactor();
        string[] keys =
        [
            "sk-proj-Qm7Lx2Vb9Tz4Rw8Kp1HdYc5Ne3Ua6Oi0Gs", "sk-ant-api03-Fj3Nq8Zx5Cv1Bm6LkP9wR2tY7uE4",
            "AIzaSyC-Xk29Wq71Mz55Lp03Rt8Bv6Nc4Dx", "sk-or-v1-8d0f5c2b9e7a4f61b3c9d2e58d0f5c2b",
            "gsk_Hy6Tn4Ue2Wi8Oq0Pa5JsLk3Mz7Xc1Vb9", "az5c2b9e7a4f61b3c9d2e58d0f1a2b3c4",
        ];
        foreach (var key in keys.Take(Keys))
        {
            _redactor.Add(key);
        }
        _errorBody = System.Text.Encoding.UTF8.GetBytes(Simulation.SimulatedEcho.ErrorBody(keys[0], 490));
    }

    /// <summary>A non-streamed answer searched for every key (and a key's beginning where a string ends).</summary>
    [Benchmark]
    public int ScrubCompletion() => _redactor.Scrub(Payloads.Completion)?.Length ?? 0;

    /// <summary>The 17 chunks of the benchmark's stream through the stream scrubber: whole keys, then keys across chunks.</summary>
    [Benchmark]
    public int ScrubStream()
    {
        var scrubber = new StreamSecretScrubber(_redactor.Secrets);
        var bytes = 0;
        foreach (var chunk in _events)
        {
            scrubber.Accept(new StreamChunk(chunk, IsUsageOnly: false));
            while (scrubber.TryTake(out var forwarded))
            {
                bytes += forwarded.Json.Length;
            }
        }
        scrubber.Complete();
        return bytes;
    }

    /// <summary>Off the hot path, for scale: a 1,000-character plain-text error body with a key at 490, redacted then cut.</summary>
    [Benchmark]
    public int RedactErrorBody() => UpstreamErrors.FromResponse("p", 401, _errorBody, null, _redactor).Message.Length;
}
