using System.Reflection;
using Baton.Configuration;
using Baton.Pipelines;

namespace Baton.Analysis;

/// <summary>
/// Seed 000's project analysis as a pipeline: the architect, deployment and business roles, then the
/// aggregator. Its definition and prompts ship inside Baton; a folder given as <c>overrides</c> replaces any
/// of them file by file (<see cref="Export"/> writes them out to start from).
/// </summary>
public static class ProjectAnalysisPipeline
{
    public const string Name = "project-analysis";

    public const string DefinitionFile = "project-analysis.yaml";

    private const string ResourcePrefix = "Baton.Analysis.Prompts.";

    /// <summary>Seed 000's four OpenRouter free models, by the model names the pipeline uses.</summary>
    public static IReadOnlyDictionary<string, string> OpenRouterModels => BuiltInConfiguration.OpenRouterModels;

    /// <summary>The names of the shipped files: the definition and its prompts.</summary>
    public static IReadOnlyList<string> Files { get; } = typeof(ProjectAnalysisPipeline).Assembly.GetManifestResourceNames()
        .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
        .Select(name => name[ResourcePrefix.Length..])
        .Order(StringComparer.Ordinal)
        .ToList();

    /// <summary>Loads the pipeline, taking each file from <paramref name="overrides"/> when it holds one.</summary>
    /// <exception cref="PipelineDefinitionException">An override makes the pipeline invalid.</exception>
    public static PipelineDefinition Load(string? overrides = null)
    {
        if (overrides is not null && !Directory.Exists(overrides))
        {
            throw new PipelineDefinitionException([$"the prompts folder '{overrides}' does not exist."]);
        }
        string? Read(string name)
        {
            if (overrides is not null)
            {
                var file = Path.Combine(overrides, name);
                if (File.Exists(file))
                {
                    return PipelineLoader.ReadText(file);
                }
            }
            return ReadShipped(name);
        }
        var source = overrides is not null && File.Exists(Path.Combine(overrides, DefinitionFile))
            ? Path.Combine(overrides, DefinitionFile)
            : DefinitionFile;
        return PipelineLoader.Load(Read(DefinitionFile)!, source, Read);
    }

    /// <summary>Writes the shipped definition and prompts into <paramref name="directory"/>, keeping files already there.</summary>
    /// <returns>The files written.</returns>
    public static IReadOnlyList<string> Export(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var name in Files)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                File.WriteAllText(path, ReadShipped(name));
                written.Add(path);
            }
        }
        return written;
    }

    private static string? ReadShipped(string name)
    {
        using var stream = typeof(ProjectAnalysisPipeline).Assembly.GetManifestResourceStream(ResourcePrefix + name);
        if (stream is null)
        {
            return null;
        }
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
