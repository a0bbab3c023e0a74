using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Hosting;
using Baton.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton pipeline list</c> and <c>baton pipeline run NAME --input input.json</c>: runs a configured pipeline
/// (or a pipeline file) on an input, printing each step as it finishes and the run's JSON result.
/// </summary>
internal static class PipelineCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("pipeline", "Run multi-model pipelines declared in JSON or YAML files.");
        command.Subcommands.Add(List(console));
        command.Subcommands.Add(Run(console));
        return command;
    }

    private static Command List(CliConsole console)
    {
        var config = CommonOptions.Config();
        var command = new Command("list", "List the configured pipelines and their steps.") { config };
        command.SetAction(parse =>
        {
            var loaded = CommonOptions.Load(console, parse.GetValue(config));
            if (loaded is null)
            {
                return CommonOptions.ConfigurationError;
            }
            var table = new Table().AddColumn("Pipeline").AddColumn("Step").AddColumn("Model or task").AddColumn("Output").AddColumn("Uses");
            foreach (var pipeline in PipelineCatalog.Create(loaded.Options).All.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                foreach (var step in pipeline.Steps)
                {
                    table.AddRow(Markup.Escape(pipeline.Name), Markup.Escape(step.Name), Markup.Escape(step.Model ?? "task " + step.Task),
                        step.Output == PipelineOutputKind.Json ? "json" : "text", Markup.Escape(string.Join(", ", step.Needs)));
                }
            }
            console.Out.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Run(CliConsole console)
    {
        var config = CommonOptions.Config();
        var name = new Argument<string>("pipeline") { Description = "A configured pipeline's name, or a pipeline file (.json, .yaml)." };
        var input = new Option<string?>("--input", "-i") { Description = "The run's input: a JSON file (default: {})." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the result to this file instead of standard output." };
        var command = new Command("run", "Run a pipeline on an input.") { name, input, output, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = CommonOptions.Load(console, parse.GetValue(config));
            if (loaded is null)
            {
                return CommonOptions.ConfigurationError;
            }
            if (!TryFind(console, loaded.Options, parse.GetValue(name)!, out var pipeline) || !TryReadInput(console, parse.GetValue(input), out var values))
            {
                return 1;
            }
            var unknown = PipelineCatalog.UnknownModels(pipeline, loaded.Options);
            if (unknown.Count > 0)
            {
                console.Error.WriteLine($"baton: the pipeline names models that are not configured: {string.Join(", ", unknown)}.");
                return 1;
            }
            await using var services = new ServiceCollection().AddBaton(loaded.Options).AddBatonSimulator().AddBatonPipelines().BuildServiceProvider();
            var runner = services.GetRequiredService<PipelineRunner>();
            PipelineRunResult result;
            try
            {
                result = await runner.RunAsync(pipeline, values, step => StepReport.Write(console.Error, step), cancellationToken: cancellationToken);
            }
            catch (PipelineInputException ex)
            {
                ex.Errors.ToList().ForEach(error => console.Error.WriteLine("baton: " + error));
                return 1;
            }
            if (!ResultWriter.Write(console, parse.GetValue(output), JsonSerializer.SerializeToNode(result)!))
            {
                return 1;
            }
            var m = result.Metadata;
            console.Error.WriteLine($"{result.Steps.Count} steps in {m.TotalTimeSeconds:0.0} s: {m.ApiCalls} API calls, {m.CacheHits} cache hits, " +
                                    $"{result.Steps.Values.Count(s => s.Fallback)} fallbacks.");
            return result.Steps.Values.Any(s => s.Fallback) ? 1 : 0;
        });
        return command;
    }

    private static bool TryFind(CliConsole console, Configuration.BatonOptions options, string nameOrFile, out PipelineDefinition pipeline)
    {
        pipeline = null!;
        var file = Path.GetFullPath(nameOrFile, console.WorkingDirectory);
        try
        {
            var catalog = PipelineCatalog.Create(options);
            var found = File.Exists(file) ? PipelineLoader.LoadFile(file) : catalog.Find(nameOrFile);
            if (found is null)
            {
                console.Error.WriteLine($"baton: no pipeline '{nameOrFile}': name a configured pipeline " +
                                        $"({string.Join(", ", catalog.All.Select(p => p.Name))}) or a pipeline file.");
                return false;
            }
            pipeline = found;
            return true;
        }
        catch (PipelineDefinitionException ex)
        {
            console.Error.WriteLine("baton: the pipeline is not valid:");
            ex.Errors.ToList().ForEach(error => console.Error.WriteLine("  - " + error));
            return false;
        }
    }

    private static bool TryReadInput(CliConsole console, string? inputFile, out JsonObject input)
    {
        input = [];
        if (inputFile is null)
        {
            return true;
        }
        var path = Path.GetFullPath(inputFile, console.WorkingDirectory);
        if (!File.Exists(path))
        {
            console.Error.WriteLine($"baton: the input file '{inputFile}' does not exist.");
            return false;
        }
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) is JsonObject values)
            {
                input = values;
                return true;
            }
            console.Error.WriteLine($"baton: the input file '{inputFile}' must hold a JSON object.");
        }
        catch (JsonException ex)
        {
            console.Error.WriteLine($"baton: the input file '{inputFile}' is not valid JSON: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            console.Error.WriteLine($"baton: the input file '{inputFile}' cannot be read: {ex.Message}");
        }
        return false;
    }
}

/// <summary>One line per finished step, for the terminal.</summary>
internal static class StepReport
{
    public static void Write(TextWriter writer, PipelineStepEvent step)
    {
        if (step.State != PipelineStepState.Finished || step.Result is not { } result)
        {
            return;
        }
        var how = result.Cached ? "from the cache" : result.Fallback ? "FALLBACK: " + result.Error : $"{(result.FinishedMs - result.StartedMs) / 1000:0.0} s";
        var reasked = result.Reasked ? ", asked twice" : "";
        lock (writer)
        {
            writer.WriteLine($"  {(result.Fallback ? "x" : "✓")} {step.Step} ({result.Model ?? "no model"}): {how}{reasked}");
        }
    }
}
