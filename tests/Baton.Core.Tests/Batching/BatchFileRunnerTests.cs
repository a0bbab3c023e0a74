using System.Text.Json;
using Baton.Batching;
using Baton.Core.Tests.TestSupport;

namespace Baton.Core.Tests.Batching;

/// <summary>JSONL batch files: one whole result line per request, resumable, unreadable lines reported and skipped.</summary>
public sealed class BatchFileRunnerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-batch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Input(params string[] lines)
    {
        var path = Path.Combine(_directory, "input.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private string OutputPath => Path.Combine(_directory, "output.jsonl");

    private static string Line(string id, string question = "hello", string model = "m") =>
        $$$"""{"custom_id":"{{{id}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"{{{model}}}","messages":[{"role":"user","content":"{{{question}}}"}]}}""";

    private List<JsonElement> Results() => File.ReadAllLines(OutputPath).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    private static EngineHarness Harness()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Model("m", "a");
        return harness;
    }

    [Fact]
    public async Task Every_request_gets_one_result_line_and_unreadable_lines_are_reported_by_number()
    {
        // Lines 2 and 4 are not requests (not JSON, no custom_id): reported. Line 6 is a request whose body is
        // refused (stream in a batch): it gets its error line, a 400, without anything being asked.
        var harness = Harness();
        var input = Input(Line("r1"), "{not json", Line("r2", "second"), """{"body":{}}""", "", """{"custom_id":"s","body":{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}}""", Line("r3", model: "nope"));

        var (progress, problems) = await new BatchFileRunner(new BatchExecutor(harness.Engine, harness.Time)).RunAsync(input, OutputPath, null, CancellationToken.None);

        Assert.Equal([2, 4], problems.Select(p => p.Line));
        Assert.Contains("custom_id", problems[1].Message);
        var results = Results();
        Assert.Equal(["r1", "r2", "r3", "s"], results.Select(r => r.GetProperty("custom_id").GetString()).Order());
        var refused = results.Single(r => r.GetProperty("custom_id").GetString() == "s").GetProperty("error");
        Assert.Equal(400, refused.GetProperty("status_code").GetInt32());
        Assert.Contains("stream", refused.GetProperty("message").GetString());
        var ok = results.Single(r => r.GetProperty("custom_id").GetString() == "r1");
        Assert.Equal(200, ok.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("chat.completion", ok.GetProperty("response").GetProperty("body").GetProperty("object").GetString());
        var failed = results.Single(r => r.GetProperty("custom_id").GetString() == "r3");
        Assert.Equal(404, failed.GetProperty("error").GetProperty("status_code").GetInt32());
        Assert.Equal("model_not_found", failed.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(new BatchFileProgress(4, 4, 2, 0, 0, 26), progress);
    }

    [Fact]
    public async Task Progress_reports_what_the_answers_cost_so_far()
    {
        var harness = Harness();
        harness.Options.Prices["m"] = new Baton.Configuration.PriceOptions { Input = 2m, Output = 8m };
        harness.Accounting = new Baton.Accounting.CostAccountant(new Baton.Accounting.PriceTable(harness.Options.Prices), harness.Time);
        var input = Input(Line("r1"), Line("r2", "second"));
        var reported = new List<BatchFileProgress>();

        var (progress, _) = await new BatchFileRunner(new BatchExecutor(harness.Engine, harness.Time)).RunAsync(input, OutputPath, p => { lock (reported) { reported.Add(p); } }, CancellationToken.None);

        // Each answer's cost is its usage at the model's price: the progress adds them up exactly.
        var costs = Results().Select(r => r.GetProperty("response").GetProperty("body").GetProperty("usage"))
            .Sum(u => (u.GetProperty("prompt_tokens").GetInt32() * 2m + u.GetProperty("completion_tokens").GetInt32() * 8m) / 1_000_000m);
        Assert.True(costs > 0);
        Assert.Equal(costs, progress.CostUsd);
        Assert.Equal(0m, reported[0].CostUsd);
    }

    [Fact]
    public async Task A_rerun_skips_what_is_done_and_redoes_a_half_written_last_line()
    {
        var harness = Harness();
        await new BatchFileRunner(new BatchExecutor(harness.Engine, harness.Time)).RunAsync(Input(Line("r1"), Line("r2", "two")), OutputPath, null, CancellationToken.None);
        var done = File.ReadAllText(OutputPath);
        var lines = done.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // As if the process had died while writing r2's line.
        File.WriteAllText(OutputPath, lines[0] + "\n" + lines[1][..(lines[1].Length / 2)]);
        var firstId = JsonDocument.Parse(lines[0]).RootElement.GetProperty("custom_id").GetString();

        var (progress, _) = await new BatchFileRunner(new BatchExecutor(harness.Engine, harness.Time)).RunAsync(Input(Line("r1"), Line("r2", "two"), Line("r3", "three")), OutputPath, null, CancellationToken.None);

        Assert.Equal(1, progress.Skipped);
        Assert.Equal(3, progress.Done);
        Assert.Equal(["r1", "r2", "r3"], Results().Select(r => r.GetProperty("custom_id").GetString()).Order());
        Assert.Equal(4, harness.Provider("a").Calls);
        Assert.Equal(firstId, Results()[0].GetProperty("custom_id").GetString());
    }

    [Fact]
    public async Task Stopping_leaves_only_whole_lines_and_a_rerun_finishes_the_rest()
    {
        var harness = Harness();
        harness.Provider("a").Answer(after: TimeSpan.FromSeconds(1), times: 10);
        var input = Input(Enumerable.Range(0, 10).Select(i => Line("r" + i, "question " + i)).ToArray());
        using var stop = new CancellationTokenSource();

        // Two at a time, in step: the clock moves only once both wait for their answers (or the run is stopping).
        await harness.RunAsync(() => new BatchFileRunner(new BatchExecutor(harness.Engine, harness.Time, maxConcurrency: 2)).RunAsync(input, OutputPath, progress =>
        {
            if (progress.Done >= 3)
            {
                stop.Cancel();
            }
        }, stop.Token), parked: () => harness.Time.ParkedDelays >= 2 || stop.IsCancellationRequested);

        var partial = Results();
        Assert.InRange(partial.Count, 3, 5);
        var ((progress, _), _) = await harness.RunAsync(() => new BatchFileRunner(new BatchExecutor(harness.Engine, harness.Time)).RunAsync(input, OutputPath, null, CancellationToken.None));
        Assert.Equal(partial.Count, progress.Skipped);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "r" + i).Order(), Results().Select(r => r.GetProperty("custom_id").GetString()).Order());
    }
}
