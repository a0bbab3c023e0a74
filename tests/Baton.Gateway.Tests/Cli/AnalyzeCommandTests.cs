using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Analysis;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Cli;

/// <summary><c>baton analyze</c> and <c>baton pipeline</c>, in process, on real project folders and the simulator.</summary>
public sealed class AnalyzeCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-analyze-").FullName;

    public AnalyzeCommandTests()
    {
        // The four models seed 000 names, simulated: hermetic even where OPENROUTER_API_KEY is set.
        var models = string.Join(",", ProjectAnalysisPipeline.OpenRouterModels.Select(m =>
            $$"""  "{{m.Key}}": { "deployments": [ { "provider": "sim", "model": "{{m.Value}}" } ] }"""));
        File.WriteAllText(Path.Combine(_directory, "baton.json"), $$"""{ "providers": { "sim": { "type": "simulator" } }, "models": { {{models}} } }""");
        CreateProject("shop", ("app.py", "import flask\n# TODO: auth\nprint('hi')\n"), ("requirements.txt", "flask\nrequests\n"),
            ("Dockerfile", "FROM python:3.12\n"), ("README.md", "# Shop\nSells things.\n## Setup\npip install\n"));
        CreateProject("notes", ("index.js", "console.log('notes');\n"), ("package.json", """{"dependencies":{"express":"4"}}"""));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void CreateProject(string name, params (string Path, string Text)[] files)
    {
        foreach (var (path, text) in files)
        {
            var full = Path.Combine(_directory, "projects", name, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
        }
    }

    private Task<(int Exit, string Out, string Error)> RunAsync(params string[] args) => CliRun.RunAsync(_directory, "", args);

    private Task<(int Exit, string Out, string Error)> AnalyzeAsync(params string[] args) =>
        RunAsync(["analyze", .. args, "--cache-dir", "cache"]);

    private static void Kind(JsonNode? node, params JsonValueKind[] kinds) => Assert.Contains(Assert.IsAssignableFrom<JsonNode>(node).GetValueKind(), kinds);

    private static JsonObject Metadata(string json) => JsonNode.Parse(json)!["llm_results"]!["metadata"]!.AsObject();

    [Fact]
    public async Task One_project_gives_exactly_seed_000s_output_object()
    {
        var (exit, output, error) = await AnalyzeAsync("projects/shop");

        Assert.True(exit == 0, error);
        var root = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(["llm_results"], root.Select(p => p.Key));
        var results = root["llm_results"]!.AsObject();
        Assert.Equal(["architect_analysis", "deployment_analysis", "business_analysis", "aggregated_insights", "metadata"], results.Select(p => p.Key));

        var architect = results["architect_analysis"]!;
        Kind(architect["architecture_assessment"], JsonValueKind.String);
        Assert.All(architect["design_patterns"]!.AsArray(), p => Kind(p, JsonValueKind.String));
        Kind(architect["scalability_notes"], JsonValueKind.String);
        Kind(architect["technical_debt_priority"], JsonValueKind.String);
        var deployment = results["deployment_analysis"]!;
        Kind(deployment["deployment_strategy"], JsonValueKind.String);
        Kind(deployment["infrastructure_recommendations"], JsonValueKind.String);
        Assert.NotEmpty(deployment["deployment_blockers"]!.AsArray());
        Assert.All(deployment["deployment_blockers"]!.AsArray(), b =>
        {
            Kind(b!["issue"], JsonValueKind.String);
            Assert.Contains(b["severity"]!.GetValue<string>(), new[] { "low", "medium", "high", "critical" });
            Kind(b["fix"], JsonValueKind.String);
        });
        Assert.NotEmpty(deployment["mvp_roadmap"]!.AsArray());
        Assert.All(deployment["mvp_roadmap"]!.AsArray(), s => Kind(s, JsonValueKind.String));
        var business = results["business_analysis"]!;
        Assert.InRange(business["market_viability"]!.GetValue<int>(), 0, 10);
        Kind(business["portfolio_suitable"], JsonValueKind.True, JsonValueKind.False);
        foreach (var field in new[] { "problem_solved", "target_audience", "monetization_strategy", "portfolio_pitch" })
        {
            Kind(business[field], JsonValueKind.String);
        }
        var insights = results["aggregated_insights"]!;
        Kind(insights["overall_assessment"], JsonValueKind.String);
        Assert.NotEmpty(insights["top_priorities"]!.AsArray());
        Assert.All(insights["top_priorities"]!.AsArray(), s => Kind(s, JsonValueKind.String));
        Assert.InRange(insights["vibecodibility_score"]!.GetValue<int>(), 0, 10);
        Assert.InRange(insights["borg_tools_fit"]!.GetValue<int>(), 0, 10);
        var metadata = results["metadata"]!;
        // Seed 000's float, even when whole: "total_time_seconds": 0.0, never 0.
        Assert.Matches("\"total_time_seconds\": [0-9]+\\.[0-9]+", output);
        Assert.Equal(ProjectAnalysisPipeline.OpenRouterModels.Values.Order(StringComparer.Ordinal),
            metadata["models_used"]!.AsArray().Select(m => m!.GetValue<string>()).Order(StringComparer.Ordinal));
        Kind(metadata["total_time_seconds"], JsonValueKind.Number);
        Assert.Equal(0, metadata["cache_hits"]!.GetValue<int>());
        Assert.Equal(4, metadata["api_calls"]!.GetValue<int>());
        // The terminal gets the summary, on standard error while the JSON has standard output.
        Assert.Contains("shop", error);
        Assert.Contains("Vibecodibility", error);
    }

    [Fact]
    public async Task A_second_run_on_an_unchanged_project_makes_no_call_and_a_changed_file_makes_its_results_stale()
    {
        var first = await AnalyzeAsync("projects/shop");
        var second = await AnalyzeAsync("projects/shop");
        File.AppendAllText(Path.Combine(_directory, "projects", "shop", "app.py"), "print('more')\n");
        var third = await AnalyzeAsync("projects/shop");

        Assert.Equal(4, Metadata(first.Out)["api_calls"]!.GetValue<int>());
        Assert.Equal((0, 4), (Metadata(second.Out)["api_calls"]!.GetValue<int>(), Metadata(second.Out)["cache_hits"]!.GetValue<int>()));
        Assert.Equal(JsonNode.Parse(first.Out)!["llm_results"]!["aggregated_insights"]!.ToJsonString(),
            JsonNode.Parse(second.Out)!["llm_results"]!["aggregated_insights"]!.ToJsonString());
        // The code changed: the architect and the aggregator ask again; deployment and business stay cached.
        Assert.Equal((2, 2), (Metadata(third.Out)["api_calls"]!.GetValue<int>(), Metadata(third.Out)["cache_hits"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Several_projects_are_one_json_line_each_or_one_file_each()
    {
        var (exit, output, error) = await AnalyzeAsync("--each", "projects");

        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["notes", "shop"], lines.Select(l => l["project"]!["name"]!.GetValue<string>()));
        Assert.All(lines, l => Assert.Equal(4, l["llm_results"]!["metadata"]!["cache_hits"]!.GetValue<int>() + l["llm_results"]!["metadata"]!["api_calls"]!.GetValue<int>()));

        var (dirExit, _, _) = await AnalyzeAsync("projects/shop", "projects/notes", "--output-dir", "out");
        Assert.Equal(0, dirExit);
        Assert.Equal(["notes.json", "shop.json"], Directory.GetFiles(Path.Combine(_directory, "out")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.NotNull(JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "out", "shop.json")))!["llm_results"]!["business_analysis"]);
    }

    [Fact]
    public async Task Prompts_can_be_exported_edited_and_used_and_an_edited_prompt_is_not_answered_from_the_cache()
    {
        Assert.Equal(0, (await AnalyzeAsync("projects/shop", "-o", "first.json")).Exit);
        var (exportExit, exported, _) = await RunAsync("analyze", "--export-prompts", "prompts");
        Assert.Equal(0, exportExit);
        Assert.Contains("Wrote 5 file(s)", exported);
        var architect = Path.Combine(_directory, "prompts", "architect.txt");
        File.WriteAllText(architect, File.ReadAllText(architect) + "\nBe brief.");

        var (exit, _, error) = await AnalyzeAsync("projects/shop", "--prompts", "prompts", "-o", "second.json");

        Assert.True(exit == 0, error);
        var metadata = Metadata(File.ReadAllText(Path.Combine(_directory, "second.json")));
        Assert.Equal((2, 2), (metadata["api_calls"]!.GetValue<int>(), metadata["cache_hits"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_prompt_that_names_a_missing_value_is_reported_by_name()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "prompts"));
        File.WriteAllText(Path.Combine(_directory, "prompts", "business.txt"), "Judge {{project.name}} for {{project.owner}}.");

        var (exit, _, error) = await AnalyzeAsync("projects/shop", "--prompts", "prompts");

        Assert.NotEqual(0, exit);
        Assert.Contains("business.txt uses {{project.owner}}, which the input does not have", error);
    }

    [Fact]
    public async Task Missing_folders_and_configurations_without_the_models_are_clear_errors()
    {
        var (exit, _, error) = await AnalyzeAsync("projects/nowhere");
        Assert.Equal(1, exit);
        Assert.Contains("does not exist", error);

        File.WriteAllText(Path.Combine(_directory, "other.json"), """{ "providers": { "sim": { "type": "simulator" } }, "models": { "solo": { "deployments": [ { "provider": "sim", "model": "x" } ] } } }""");
        var (configExit, _, configError) = await AnalyzeAsync("projects/shop", "--config", "other.json");
        Assert.Equal(2, configExit);
        Assert.Contains("does not configure the models the analysis uses: scout, mistral, r1, maverick", configError);
    }

    [Fact]
    public async Task Outputs_that_cannot_be_written_and_prompt_folders_that_do_not_exist_are_clear_errors()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "a-folder"));

        var (exit, _, error) = await AnalyzeAsync("projects/shop", "-o", "a-folder");
        var (promptsExit, _, promptsError) = await AnalyzeAsync("projects/shop", "--prompts", "no-such-prompts");

        Assert.Equal(1, exit);
        Assert.Contains("baton: cannot write 'a-folder'", error);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal(2, promptsExit);
        Assert.Contains("the prompts folder", promptsError);
        Assert.Contains("does not exist", promptsError);
    }

    [Fact]
    public async Task Pipeline_run_takes_a_file_and_an_input_and_prints_every_step()
    {
        File.WriteAllText(Path.Combine(_directory, "summary.yaml"), """
            name: summary
            steps:
              facts:
                model: scout
                promptText: "List facts about {{topic}}"
                output: json
                schema: { type: object, required: [facts], properties: { facts: { type: array, items: { type: string } } } }
              text:
                model: maverick
                promptText: "Write about {{topic}} from {{steps.facts.facts}}"
            """);
        File.WriteAllText(Path.Combine(_directory, "input.json"), """{"topic":"bees"}""");

        var (exit, output, error) = await RunAsync("pipeline", "run", "summary.yaml", "--input", "input.json");

        Assert.True(exit == 0, error);
        var result = JsonNode.Parse(output)!;
        Assert.IsType<JsonArray>(result["outputs"]!["facts"]!["facts"]);
        Assert.StartsWith("Simulated answer from meta-llama/llama-4-maverick:free", result["outputs"]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, result["metadata"]!["api_calls"]!.GetValue<int>());
        Assert.Contains("✓ facts (meta-llama/llama-4-scout:free)", error);
        Assert.Contains("2 steps in", error);

        var (missingExit, _, missingError) = await RunAsync("pipeline", "run", "summary.yaml");
        Assert.Equal(1, missingExit);
        Assert.Contains("uses {{topic}}, which the input does not have", missingError);
    }

    [Fact]
    public async Task Pipeline_list_shows_configured_pipelines_and_the_built_in_analysis()
    {
        var (exit, output, _) = await RunAsync("pipeline", "list");

        Assert.Equal(0, exit);
        Assert.Contains("project-analysis", output);
        Assert.Contains("aggregator", output);
        Assert.Contains("architect, deployment, business", output);
    }
}
