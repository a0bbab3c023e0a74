using System.CommandLine;
using System.Diagnostics;
using Baton.Batching;
using Baton.Engine;
using Baton.Hosting;
using Baton.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton batch INPUT.jsonl -o OUTPUT.jsonl</c>: runs an OpenAI-style batch file through the engine with a
/// live progress bar. Re-running with the same output carries on where it stopped.
/// </summary>
internal static class BatchCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var input = new Argument<string>("input") { Description = "JSONL file: one {\"custom_id\": ..., \"body\": {chat request}} per line." };
        var output = new Option<string>("--output", "-o") { Description = "JSONL results file (appended to; lines already there are skipped).", Required = true };
        var concurrency = new Option<int?>("--concurrency") { Description = "Requests at the same time (default: batch.maxConcurrency, else 10)." };
        var command = new Command("batch", "Run a JSONL batch file of chat requests, resumably.") { input, output, config, concurrency };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var inputPath = Path.GetFullPath(parse.GetValue(input)!, console.WorkingDirectory);
            var outputPath = Path.GetFullPath(parse.GetValue(output)!, console.WorkingDirectory);
            if (!File.Exists(inputPath))
            {
                console.Error.WriteLine($"baton: the input file '{parse.GetValue(input)}' does not exist.");
                return 1;
            }
            var loaded = CommonOptions.Load(console, parse.GetValue(config));
            if (loaded is null)
            {
                return CommonOptions.ConfigurationError;
            }
            CommonOptions.AnnounceSource(console, loaded);
            // With postgres.connection, what it spends is recorded in the shared ledger, and counts against shared budgets.
            await using var services = new ServiceCollection().AddBatonPostgres(loaded.Options).AddBaton(loaded.Options).AddBatonSimulator().BuildServiceProvider();
            // --concurrency overrides batch.maxConcurrency for this run only.
            var executor = parse.GetValue(concurrency) is { } given
                ? new BatchExecutor(services.GetRequiredService<BatonEngine>(), services.GetRequiredService<TimeProvider>(), given,
                    services.GetService<Microsoft.Extensions.Logging.ILogger<BatchExecutor>>())
                : services.GetRequiredService<BatchExecutor>();
            var runner = new BatchFileRunner(executor);

            var clock = Stopwatch.StartNew();
            (BatchFileProgress Progress, IReadOnlyList<BatchFileProblem> Problems) outcome = (new BatchFileProgress(0, 0, 0, 0, 0, 0), []);
            await console.Out.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("starting", maxValue: 1);
                    outcome = await runner.RunAsync(inputPath, outputPath, progress =>
                    {
                        var answered = progress.Done - progress.Skipped;
                        var rate = answered / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
                        task.MaxValue = Math.Max(1, progress.Total);
                        task.Value = progress.Done;
                        task.Description = $"{progress.Done}/{progress.Total} done, {progress.Failed} failed, {progress.CacheHits} cache hits, " +
                                           $"{progress.Tokens:N0} tokens, ${progress.CostUsd:0.0000}, {rate:0.0}/s";
                    }, cancellationToken);
                });

            foreach (var problem in outcome.Problems)
            {
                console.Error.WriteLine($"baton: line {problem.Line} skipped: {problem.Message}");
            }
            var p = outcome.Progress;
            var stopped = cancellationToken.IsCancellationRequested ? " Stopped: run the same command again to carry on." : "";
            console.Out.MarkupLine(Markup.Escape(
                $"{p.Done - p.Skipped} answered ({p.Failed} failed, {p.CacheHits} from the cache), {p.Skipped} already done, " +
                $"{outcome.Problems.Count} unreadable line(s), {p.Tokens:N0} tokens, ${p.CostUsd:0.000000}, in {clock.Elapsed.TotalSeconds:0.0} s.{stopped}"));
            return p.Failed > 0 || outcome.Problems.Count > 0 ? 1 : 0;
        });
        return command;
    }
}
