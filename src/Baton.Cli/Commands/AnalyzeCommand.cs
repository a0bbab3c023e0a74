using System.CommandLine;
using System.Text.Json.Nodes;
using Baton.Analysis;
using Baton.Client;
using Baton.Configuration;
using Baton.Hosting;
using Baton.Pipelines;
using Baton.Pipelines.Caching;
using Baton.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton analyze PATH...</c>: seed 000's multi-model analysis of software projects. Scans each folder,
/// runs the architect, deployment and business roles in parallel and then the aggregator, and writes seed
/// 000's output object. Results are cached by the content of the files each role looks at, so a second
/// run on an unchanged project makes no call.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create(CliConsole console)
    {
        var paths = new Argument<string[]>("paths") { Description = "Project folders to analyse.", Arity = ArgumentArity.ZeroOrMore };
        var each = new Option<string?>("--each") { Description = "Analyse every project folder directly inside this one." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the result to this file (one project: its llm_results object; several: one JSON line each)." };
        var outputDir = new Option<string?>("--output-dir") { Description = "Write each project's result to DIR/NAME.json." };
        var config = new Option<string?>("--config", "-c")
        {
            Description = $"Configuration file naming the models scout, mistral, r1 and maverick (default: {BatonConfigurationLoader.DefaultFileName} when it does, " +
                          $"else OpenRouter's free models when {AnalysisConfiguration.OpenRouterKeyVariable} is set, else the built-in simulator).",
        };
        var prompts = new Option<string?>("--prompts") { Description = "A folder whose files replace the shipped pipeline and prompts of the same name." };
        var exportPrompts = new Option<string?>("--export-prompts") { Description = "Write the shipped pipeline and prompts into this folder, to edit, and stop." };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Where results are cached between runs (default: the user's cache folder, baton/analyze)." };
        var noCache = new Option<bool>("--no-cache") { Description = "Ask the models again even for unchanged projects." };
        var rpm = new Option<int?>("--rpm") { Description = $"At most this many model calls a minute (default: {RateLimitSettings.OpenRouterFreeRequestsPerMinute} on OpenRouter's free tier, else none)." };
        var command = new Command("analyze", "Analyse software projects with the project-analysis pipeline (four models): architecture, deployment, business, then an aggregated verdict.")
        {
            paths, each, output, outputDir, config, prompts, exportPrompts, cacheDir, noCache, rpm,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(exportPrompts) is { } exportTo)
            {
                var folder = Path.GetFullPath(exportTo, console.WorkingDirectory);
                var written = ProjectAnalysisPipeline.Export(folder);
                console.Out.MarkupLine(Markup.Escape($"Wrote {written.Count} file(s) to {folder} (files already there were kept). Edit them and pass --prompts {exportTo}."));
                return 0;
            }
            var projects = Projects(console, parse.GetValue(paths) ?? [], parse.GetValue(each));
            if (projects is null)
            {
                return 1;
            }
            PipelineDefinition pipeline;
            try
            {
                pipeline = ProjectAnalysisPipeline.Load(parse.GetValue(prompts) is { } dir ? Path.GetFullPath(dir, console.WorkingDirectory) : null);
            }
            catch (PipelineDefinitionException ex)
            {
                console.Error.WriteLine("baton: the analysis pipeline is not valid:");
                ex.Errors.ToList().ForEach(e => console.Error.WriteLine("  - " + e));
                return CommonOptions.ConfigurationError;
            }
            var setup = Configure(console, parse.GetValue(config), pipeline);
            if (setup is null)
            {
                return CommonOptions.ConfigurationError;
            }
            var (options, source, openRouter) = setup.Value;

            var toStdout = parse.GetValue(output) is null && parse.GetValue(outputDir) is null;
            // With the JSON on standard output, the progress and the summary go to standard error.
            var display = toStdout ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Error) }) : console.Out;
            display.Profile.Width = Math.Max(display.Profile.Width, console.Out.Profile.Width);
            display.MarkupLine(Markup.Escape(source));

            await using var services = new ServiceCollection().AddBaton(options).AddBatonSimulator().BuildServiceProvider();
            var cache = parse.GetValue(noCache) ? null : new FilePipelineResultCache(CacheFolder(console, parse.GetValue(cacheDir)));
            var runner = new PipelineRunner(services.GetRequiredService<BatonChatClient>(), TimeProvider.System, cache,
                parse.GetValue(rpm) ?? (openRouter ? RateLimitSettings.OpenRouterFreeRequestsPerMinute : null), PipelineModelIdentity.For(options));
            var analyzer = new ProjectAnalyzer(runner, pipeline);

            var (results, problems) = await AnalyzeAllAsync(display, analyzer, projects, cancellationToken);
            foreach (var problem in problems)
            {
                console.Error.WriteLine("baton: " + problem);
            }
            if (results.Count < projects.Count && cancellationToken.IsCancellationRequested)
            {
                console.Error.WriteLine("baton: stopped before every project was analysed.");
            }
            var saved = Write(console, results, projects.Count, parse.GetValue(output), parse.GetValue(outputDir));
            Summarise(display, results);
            return saved && results.Count == projects.Count && results.All(r => !r.Run.Steps.Values.Any(s => s.Fallback)) ? 0 : 1;
        });
        return command;
    }

    private static List<string>? Projects(CliConsole console, string[] paths, string? each)
    {
        var projects = paths.Select(p => Path.GetFullPath(p, console.WorkingDirectory)).ToList();
        if (each is not null)
        {
            var parent = Path.GetFullPath(each, console.WorkingDirectory);
            if (!Directory.Exists(parent))
            {
                console.Error.WriteLine($"baton: --each: the folder '{each}' does not exist.");
                return null;
            }
            projects.AddRange(ProjectScanner.FindProjects(parent));
        }
        if (projects.Count == 0)
        {
            console.Error.WriteLine("baton: name at least one project folder, or a parent folder with --each.");
            return null;
        }
        var missing = projects.Where(p => !Directory.Exists(p)).ToList();
        foreach (var folder in missing)
        {
            console.Error.WriteLine($"baton: the project folder '{folder}' does not exist.");
        }
        return missing.Count == 0 ? projects.Distinct(StringComparer.Ordinal).ToList() : null;
    }

    /// <summary>The configuration to run on: the one given, else baton.json when it has the pipeline's models, else the built-in choice.</summary>
    private static (BatonOptions Options, string Source, bool OpenRouter)? Configure(CliConsole console, string? configFile, PipelineDefinition pipeline)
    {
        var defaultFile = Path.Combine(console.WorkingDirectory, BatonConfigurationLoader.DefaultFileName);
        if (configFile is not null || File.Exists(defaultFile))
        {
            var loaded = CommonOptions.Load(console, configFile);
            if (loaded is null)
            {
                return null;
            }
            var unknown = PipelineCatalog.UnknownModels(pipeline, loaded.Options);
            if (unknown.Count == 0)
            {
                return (loaded.Options, $"Models from {loaded.FilePath ?? "the built-in configuration"}.", false);
            }
            if (configFile is not null)
            {
                console.Error.WriteLine($"baton: {configFile} does not configure the models the analysis uses: {string.Join(", ", unknown)} " +
                                        "(see docs/pipelines.md, or pass --prompts with a pipeline naming your models).");
                return null;
            }
        }
        var (options, openRouter) = AnalysisConfiguration.Create(Environment.GetEnvironmentVariable);
        return (options, openRouter
            ? $"Models: OpenRouter's four free models ({AnalysisConfiguration.OpenRouterKeyVariable} is set), at most {RateLimitSettings.OpenRouterFreeRequestsPerMinute} calls a minute."
            : $"No {AnalysisConfiguration.OpenRouterKeyVariable}: using Baton's built-in simulator (answers are simulated, shaped like the real ones).", openRouter);
    }

    private static string CacheFolder(CliConsole console, string? given)
    {
        if (given is not null)
        {
            return Path.GetFullPath(given, console.WorkingDirectory);
        }
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        return Path.Combine(root, "baton", "analyze");
    }

    /// <summary>
    /// Analyses the projects one after another (each one's roles in parallel). A project that cannot be scanned
    /// is reported and skipped; a prompt that names a value the scan lacks stops the run, as it would fail every project.
    /// </summary>
    private static async Task<(List<ProjectAnalysis> Results, List<string> Problems)> AnalyzeAllAsync(IAnsiConsole display, ProjectAnalyzer analyzer,
        List<string> projects, CancellationToken cancellationToken)
    {
        var results = new List<ProjectAnalysis>();
        var problems = new List<string>();
        await display.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var overall = projects.Count > 1 ? context.AddTask($"{projects.Count} projects", maxValue: projects.Count) : null;
                foreach (var project in projects)
                {
                    var name = Path.GetFileName(project);
                    var task = context.AddTask(Markup.Escape($"{name}: scanning"), maxValue: analyzer.StepCount);
                    try
                    {
                        var result = await analyzer.AnalyzeAsync(project, step =>
                        {
                            if (step.State == PipelineStepState.Finished)
                            {
                                task.Increment(1);
                                var how = step.Result!.Cached ? "cached" : step.Result.Fallback ? "fallback" : "done";
                                task.Description = Markup.Escape($"{name}: {step.Step} {how}");
                            }
                            else
                            {
                                task.Description = Markup.Escape($"{name}: {step.Step}");
                            }
                        }, cancellationToken);
                        task.Value = task.MaxValue;
                        var m = result.Run.Metadata;
                        task.Description = Markup.Escape($"{name}: {m.ApiCalls} calls, {m.CacheHits} cached, {m.TotalTimeSeconds:0.0} s");
                        results.Add(result);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        task.Description = Markup.Escape($"{name}: stopped");
                        break;
                    }
                    catch (PipelineInputException ex)
                    {
                        problems.AddRange(ex.Errors);
                        task.Description = Markup.Escape($"{name}: not analysed");
                        break;
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        problems.Add($"{project} cannot be scanned: {ex.Message}");
                        task.Description = Markup.Escape($"{name}: not scanned");
                    }
                    overall?.Increment(1);
                }
            });
        return (results, problems);
    }

    private static bool Write(CliConsole console, List<ProjectAnalysis> results, int projects, string? output, string? outputDir)
    {
        if (outputDir is not null)
        {
            var folder = Path.GetFullPath(outputDir, console.WorkingDirectory);
            try
            {
                Directory.CreateDirectory(folder);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                console.Error.WriteLine($"baton: cannot create '{outputDir}': {ex.Message}");
                return false;
            }
            var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var ok = true;
            foreach (var result in results)
            {
                // Two projects of one name (a/app, b/app) get app.json and app-2.json; a nameless root gets "project".
                var stem = result.Scan.Project.Name is { Length: > 0 } n ? n : "project";
                var file = stem + ".json";
                for (var i = 2; !taken.Add(file); i++)
                {
                    file = $"{stem}-{i}.json";
                }
                ok &= ResultWriter.Write(console, Path.Combine(folder, file), result.Output);
            }
            return ok;
        }
        if (projects == 1)
        {
            return results.Count == 0 || ResultWriter.Write(console, output, results[0].Output);
        }
        // Several projects in one stream: one line each, naming its project beside seed 000's llm_results.
        var lines = results.Select(r =>
        {
            var line = (JsonObject)r.Output.DeepClone();
            line.Insert(0, "project", new JsonObject { ["name"] = r.Scan.Project.Name, ["path"] = r.Scan.Project.Path });
            return line.ToJsonString() + Environment.NewLine;
        });
        return ResultWriter.WriteText(console, output, string.Concat(lines));
    }

    private static void Summarise(IAnsiConsole display, List<ProjectAnalysis> results)
    {
        var table = new Table().AddColumn("Project").AddColumn("Viability").AddColumn("Vibecodibility").AddColumn("Fit")
            .AddColumn("Calls").AddColumn("Cached").AddColumn("Fallbacks").AddColumn("Time");
        foreach (var result in results)
        {
            var llm = result.Output["llm_results"]!;
            static string Score(JsonNode? node) => node is JsonValue value && value.TryGetValue<int>(out var score) ? $"{score}/10" : "-";
            var m = result.Run.Metadata;
            table.AddRow(
                Markup.Escape(result.Scan.Project.Name),
                Score(llm["business_analysis"]?["market_viability"]),
                Score(llm["aggregated_insights"]?["vibecodibility_score"]),
                Score(llm["aggregated_insights"]?["borg_tools_fit"]),
                m.ApiCalls.ToString(System.Globalization.CultureInfo.InvariantCulture),
                m.CacheHits.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(string.Join(", ", result.Run.Steps.Where(s => s.Value.Fallback).Select(s => s.Key))),
                $"{m.TotalTimeSeconds:0.0} s");
        }
        display.Write(table);
        foreach (var result in results)
        {
            var verdict = result.Output["llm_results"]!["aggregated_insights"]?["overall_assessment"]?.ToString() ?? "";
            display.MarkupLine($"[bold]{Markup.Escape(result.Scan.Project.Name)}[/]: {Markup.Escape(verdict)}");
        }
    }
}
