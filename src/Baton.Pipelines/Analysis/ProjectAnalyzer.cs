using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Pipelines;

namespace Baton.Analysis;

/// <summary>One project's analysis: the scan it was built on, seed 000's output object, and the run behind it.</summary>
public sealed record ProjectAnalysis(ProjectScan Scan, JsonObject Output, PipelineRunResult Run);

/// <summary>
/// Seed 000's project analysis: scans a project folder honestly, runs the analysis pipeline on the scan, and
/// shapes the run as seed 000's output (<c>llm_results</c> with the three role analyses, the aggregated
/// insights and the run's metadata).
/// </summary>
public sealed class ProjectAnalyzer(PipelineRunner runner, PipelineDefinition pipeline, ProjectScanner? scanner = null)
{
    /// <summary>Which pipeline step fills which field of seed 000's <c>llm_results</c>.</summary>
    private static readonly IReadOnlyList<(string Field, string Step)> ResultFields =
    [
        ("architect_analysis", "architect"),
        ("deployment_analysis", "deployment"),
        ("business_analysis", "business"),
        ("aggregated_insights", "aggregator"),
    ];

    private readonly ProjectScanner _scanner = scanner ?? new ProjectScanner();

    /// <summary>The pipeline's steps, for a progress display.</summary>
    public int StepCount => pipeline.Steps.Count;

    public async Task<ProjectAnalysis> AnalyzeAsync(string projectPath, Action<PipelineStepEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        var scan = _scanner.Scan(projectPath, cancellationToken);
        var run = await runner.RunAsync(pipeline, BuildInput(scan), progress, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new ProjectAnalysis(scan, ToSeedOutput(run), run);
    }

    /// <summary>The pipeline's input: seed 000's <c>project</c>, the fingerprints results are cached by, and the README's beginning.</summary>
    public static JsonObject BuildInput(ProjectScan scan) =>
        JsonSerializer.SerializeToNode(scan, ProjectAnalysisJsonContext.Default.ProjectScan)!.AsObject();

    /// <summary>Seed 000's output object from a run of the analysis pipeline.</summary>
    public static JsonObject ToSeedOutput(PipelineRunResult run)
    {
        var results = new JsonObject();
        foreach (var (field, step) in ResultFields)
        {
            results[field] = run.Outputs.GetValueOrDefault(step)?.DeepClone() ?? new JsonObject();
        }
        results["metadata"] = new JsonObject
        {
            ["models_used"] = new JsonArray(run.Metadata.ModelsUsed.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray()),
            // Seed 000's float: a whole number of seconds is still written with a decimal point (0.0, not 0).
            ["total_time_seconds"] = decimal.Round((decimal)run.Metadata.TotalTimeSeconds, 3) + 0.0m,
            ["cache_hits"] = run.Metadata.CacheHits,
            ["api_calls"] = run.Metadata.ApiCalls,
        };
        return new JsonObject { ["llm_results"] = results };
    }
}
