using Baton.Analysis;
using Baton.Configuration;
using Baton.Pipelines;

namespace Baton.Core.Tests.Pipelines;

public sealed class PipelineConfigurationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("baton-pipeline-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static BatonOptions Options()
    {
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Models["fast"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = "m" }] };
        return options;
    }

    [Fact]
    public void Configured_pipelines_are_checked_at_start_up_with_their_key_path()
    {
        File.WriteAllText(Path.Combine(_folder, "good.json"), """{"name":"good","steps":{"a":{"model":"fast","promptText":"hi"}}}""");
        File.WriteAllText(Path.Combine(_folder, "ghost.json"), """{"name":"ghost","steps":{"a":{"model":"ghost","promptText":"hi"}}}""");
        var options = Options();
        options.Pipelines["good"] = Path.Combine(_folder, "good.json");
        options.Pipelines["ghost"] = Path.Combine(_folder, "ghost.json");
        options.Pipelines["lost"] = Path.Combine(_folder, "lost.yaml");

        var errors = PipelineCatalog.Validate(options);

        Assert.Contains(errors, e => e == "pipelines.ghost: its steps name models that are not configured: ghost.");
        Assert.Contains(errors, e => e.StartsWith("pipelines.lost: the pipeline file", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.StartsWith("pipelines.good", StringComparison.Ordinal));
    }

    [Fact]
    public void The_built_in_analysis_is_offered_only_where_its_models_are_configured()
    {
        Assert.Null(PipelineCatalog.Create(Options()).Find(ProjectAnalysisPipeline.Name));
        Assert.NotNull(PipelineCatalog.Create(BuiltInConfiguration.Create()).Find(ProjectAnalysisPipeline.Name));
    }

    [Fact]
    public void Analysis_runs_on_openrouters_free_models_when_the_key_is_set_and_on_the_simulator_otherwise()
    {
        var (simulated, openRouterWithout) = AnalysisConfiguration.Create(_ => null);
        var (real, openRouterWith) = AnalysisConfiguration.Create(name => name == "OPENROUTER_API_KEY" ? "sk-or-test" : null);

        Assert.False(openRouterWithout);
        Assert.Equal("simulator", simulated.Providers[simulated.Models["r1"].Deployments[0].Provider!].Type);
        Assert.True(openRouterWith);
        Assert.Equal("https://openrouter.ai/api/v1", real.Providers["openrouter"].BaseUrl);
        Assert.Equal("OPENROUTER_API_KEY", real.Providers["openrouter"].ApiKeyEnv);
        Assert.Equal("deepseek/deepseek-r1:free", real.Models["r1"].Deployments[0].Model);
        Assert.Empty(BatonOptionsValidator.Validate(real, name => name == "OPENROUTER_API_KEY" ? "sk-or-test" : null));
    }
}
