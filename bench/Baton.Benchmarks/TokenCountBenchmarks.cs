using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Baton.Accounting;

namespace Baton.Benchmarks;

/// <summary>
/// The CPU Baton spends counting an answer's tokens itself (a stream without usage, a cut stream, a client that
/// left): 40 to 300 KB of one long run of <c>x</c> (a hostile answer) and of ordinary text (the project's docs).
/// <see cref="Bounded"/> is the counter in use; <see cref="WholeText"/> is the tokenizer on the whole text at
/// once, as Baton counted before, quadratic on a long run. One measured invocation per case (after the one that
/// compiles it), in this process: the slowest case takes a minute or more, and the two differ by orders of
/// magnitude.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OneShot))]
public class TokenCountBenchmarks
{
    private sealed class OneShot : ManualConfig
    {
        // The in-process toolchain gives up on a case after a few minutes by default; the slowest one needs more.
        public OneShot() => AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(0).WithIterationCount(1)
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(1), logOutput: true)));
    }

    private string _text = "";

    [Params(40, 80, 160, 300)]
    public int SizeKb { get; set; }

    [Params("x-run", "ordinary")]
    public string Kind { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var length = SizeKb * 1024;
        _text = Kind == "x-run" ? new string('x', length) : OrdinaryText(length);
        // The encoding's vocabulary is loaded once per process, outside the measurement.
        PromptTokenCounter.Count("warm up", "gpt-4o");
    }

    private static string OrdinaryText(int length)
    {
        var docs = string.Concat(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "payloads", "docs"), "*.md").Order(StringComparer.Ordinal).Select(File.ReadAllText));
        var text = new System.Text.StringBuilder(length + docs.Length);
        while (text.Length < length)
        {
            text.Append(docs);
        }
        return text.ToString(0, length);
    }

    /// <summary>Before: the whole text in one call to the tokenizer.</summary>
    [Benchmark(Baseline = true)]
    public int WholeText() => PromptTokenCounter.For("gpt-4o").CountTokens(_text);

    /// <summary>After: pre-tokenized, each piece at most 128 characters, cancellable between pieces.</summary>
    [Benchmark]
    public int Bounded() => PromptTokenCounter.Count(_text, "gpt-4o");
}
