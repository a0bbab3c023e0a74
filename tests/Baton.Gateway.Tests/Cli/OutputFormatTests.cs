using System.Text.Json.Nodes;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Cli;

/// <summary><c>--format json</c> for scripts, and tables that stay whole when standard output is a pipe.</summary>
public sealed class OutputFormatTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-format-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Models_as_json_list_every_model_with_its_deployments()
    {
        var (exit, output, _) = await CliRun.RunAsync(_directory, "", "models", "--format", "json");

        Assert.Equal(0, exit);
        var models = JsonNode.Parse(output)!["models"]!.AsArray();
        var sim = Assert.Single(models, m => m!["name"]!.GetValue<string>() == "baton-sim")!;
        var deployment = Assert.Single(sim["deployments"]!.AsArray())!;
        Assert.Equal("simulator", deployment["provider"]!.GetValue<string>());
        Assert.Equal("baton-sim-1", deployment["upstream_model"]!.GetValue<string>());
    }

    [Fact]
    public async Task Health_as_json_has_the_gateways_shape()
    {
        var (exit, output, _) = await CliRun.RunAsync(_directory, "", "health", "--format", "json");

        Assert.Equal(0, exit);
        var report = JsonNode.Parse(output)!;
        Assert.Equal("ok", report["status"]!.GetValue<string>());
        Assert.Contains(report["deployments"]!.AsArray(), d => d!["deployment"]!.GetValue<string>() == "simulator/baton-sim-1");
    }

    [Fact]
    public async Task Cache_stats_as_json_count_the_stored_answers()
    {
        var file = Path.Combine(_directory, "answers.db").Replace("\\", "/", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_directory, "baton.json"), $$"""
            { "providers": { "sim": { "type": "simulator" } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "cache": { "mode": "on", "store": "sqlite", "path": "{{file}}" } }
            """);
        Assert.Equal(0, (await CliRun.RunAsync(_directory, "", "chat", "Keep this")).Exit);

        var (exit, output, _) = await CliRun.RunAsync(_directory, "", "cache", "stats", "--format", "json");

        Assert.Equal(0, exit);
        Assert.Equal(1, JsonNode.Parse(output)!["entries"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_unknown_format_is_refused()
    {
        var (exit, _, error) = await CliRun.RunAsync(_directory, "", "models", "--format", "xml");
        Assert.NotEqual(0, exit);
        Assert.Contains("xml", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_piped_table_keeps_whole_cells()
    {
        var (exit, output, _) = await BatonProcess.RunAsync(_directory, "health");

        Assert.Equal(0, exit);
        Assert.Contains("simulator/baton-sim-1", output, StringComparison.Ordinal);
        Assert.Contains("HEALTHY", output, StringComparison.Ordinal);
        Assert.DoesNotContain("…", output, StringComparison.Ordinal);
    }
}
