using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Baton.Pipelines;

namespace Baton.Gateway.Tests.Cli;

/// <summary>What the README tells a new user to run works: the files it names exist, and the examples load and run.</summary>
public sealed partial class ExamplesTests : IDisposable
{
    private static readonly string Root = FindRoot();
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-examples-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Every_file_the_readme_names_exists()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var paths = RepositoryPath().Matches(readme).Select(m => m.Value.TrimEnd('.', ',', ')', ':', '/')).Distinct().ToList();

        Assert.Contains("examples/openrouter-free/baton.json", paths);
        Assert.Contains("examples/batch/input.jsonl", paths);
        Assert.Contains("examples/pipelines/release-notes/release-notes.yaml", paths);
        Assert.All(paths, path => Assert.True(File.Exists(Path.Combine(Root, path)) || Directory.Exists(Path.Combine(Root, path)), $"README names {path}, which does not exist."));
    }

    [Fact]
    public void Every_example_configuration_loads_and_validates()
    {
        var files = Directory.GetFiles(Path.Combine(Root, "examples"), "baton.json", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var options = BatonConfigurationLoader.Load(file, _directory).Options;
            // Keys are not needed to check a file: any variable it names is taken as set.
            Assert.Empty(BatonOptionsValidator.Validate(options, _ => "set"));
        }
    }

    [Fact]
    public void The_openrouter_example_runs_the_project_analysis_models()
    {
        var options = BatonConfigurationLoader.Load(Path.Combine(Root, "examples", "openrouter-free", "baton.json"), _directory).Options;
        foreach (var (name, upstream) in Analysis.ProjectAnalysisPipeline.OpenRouterModels)
        {
            Assert.Equal(upstream, Assert.Single(options.Models[name].Deployments).Model);
        }
    }

    [Fact]
    public async Task The_batch_example_runs_on_the_built_in_simulator()
    {
        var input = Path.Combine(Root, "examples", "batch", "input.jsonl");
        var output = Path.Combine(_directory, "output.jsonl");

        var (exit, _, error) = await CliRun.RunAsync(_directory, "", "batch", input, "-o", output);

        Assert.True(exit == 0, error);
        var lines = File.ReadAllLines(output).Select(line => JsonNode.Parse(line)!).ToList();
        Assert.Equal(File.ReadAllLines(input).Length, lines.Count);
        Assert.All(lines, line => Assert.Equal(200, line["response"]!["status_code"]!.GetValue<int>()));
    }

    [Fact]
    public async Task The_pipeline_example_loads_and_runs_on_the_built_in_simulator()
    {
        var folder = Path.Combine(Root, "examples", "pipelines", "release-notes");
        var pipeline = PipelineLoader.LoadFile(Path.Combine(folder, "release-notes.yaml"));
        Assert.Equal("release-notes", pipeline.Name);

        var (exit, output, error) = await CliRun.RunAsync(_directory, "", "pipeline", "run",
            Path.Combine(folder, "release-notes.yaml"), "--input", Path.Combine(folder, "input.json"));

        Assert.True(exit == 0, error);
        Assert.Contains("\"announcement\"", output, StringComparison.Ordinal);
        Assert.Contains("\"highlights\"", output, StringComparison.Ordinal);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Baton.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("The repository root (Baton.slnx) was not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"(?<![\w/.~-])(?:examples|docs|src|tests|bench|deploy)/[\w./-]*[\w/]")]
    private static partial Regex RepositoryPath();
}
