using Baton.Analysis;
using Baton.Configuration;

namespace Baton.Pipelines;

/// <summary>
/// The pipelines a configuration offers: those under <c>pipelines</c>, and the built-in
/// <c>project-analysis</c> when the models its steps name are configured.
/// </summary>
public sealed class PipelineCatalog
{
    private readonly Dictionary<string, PipelineDefinition> _pipelines;

    private PipelineCatalog(Dictionary<string, PipelineDefinition> pipelines) => _pipelines = pipelines;

    public IReadOnlyCollection<PipelineDefinition> All => _pipelines.Values;

    public PipelineDefinition? Find(string name) => _pipelines.GetValueOrDefault(name);

    /// <exception cref="BatonConfigurationException">A configured pipeline is missing or not valid.</exception>
    public static PipelineCatalog Create(BatonOptions options)
    {
        var errors = new List<string>();
        var pipelines = Load(options, errors);
        if (errors.Count > 0)
        {
            throw new BatonConfigurationException(errors);
        }
        return new PipelineCatalog(pipelines);
    }

    /// <summary>Every problem of the configured pipelines, with its key path.</summary>
    public static IReadOnlyList<string> Validate(BatonOptions options)
    {
        var errors = new List<string>();
        Load(options, errors);
        return errors;
    }

    /// <summary>The steps' models that <paramref name="options"/> does not configure.</summary>
    public static IReadOnlyList<string> UnknownModels(PipelineDefinition pipeline, BatonOptions options) =>
        pipeline.Steps.SelectMany(s => s.Fallbacks.Prepend(s.Model ?? ""))
            .Where(m => m.Length > 0 && !options.Models.ContainsKey(m))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();

    private static Dictionary<string, PipelineDefinition> Load(BatonOptions options, List<string> errors)
    {
        var pipelines = new Dictionary<string, PipelineDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, file) in options.Pipelines)
        {
            var path = $"pipelines.{name}";
            if (string.IsNullOrWhiteSpace(file))
            {
                errors.Add($"{path}: give the pipeline's file (JSON or YAML).");
                continue;
            }
            try
            {
                var pipeline = PipelineLoader.LoadFile(file);
                var unknown = UnknownModels(pipeline, options);
                if (unknown.Count > 0)
                {
                    errors.Add($"{path}: its steps name models that are not configured: {string.Join(", ", unknown)}.");
                    continue;
                }
                pipelines[name] = pipeline;
            }
            catch (PipelineDefinitionException ex)
            {
                errors.AddRange(ex.Errors.Select(error => $"{path}: {error}"));
            }
        }
        if (!pipelines.ContainsKey(ProjectAnalysisPipeline.Name))
        {
            var analysis = ProjectAnalysisPipeline.Load();
            if (UnknownModels(analysis, options).Count == 0)
            {
                pipelines[ProjectAnalysisPipeline.Name] = analysis;
            }
        }
        return pipelines;
    }
}
