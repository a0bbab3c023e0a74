using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Baton.Analysis;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Pipelines;

/// <summary><c>/v1/pipelines</c> over real HTTP on a real gateway, with a pipeline file from the configuration.</summary>
public sealed class PipelineEndpointTests : IAsyncLifetime, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("baton-pipelines-").FullName;
    private readonly HttpClient _http = new();
    private WebApplication? _gateway;

    public async Task InitializeAsync()
    {
        File.WriteAllText(Path.Combine(_folder, "title.txt"), "Give a title for: {{text}}");
        File.WriteAllText(Path.Combine(_folder, "titles.yaml"), """
            name: titles
            description: A title, then a judgement of it.
            steps:
              title:
                model: scout
                prompt: title.txt
              judge:
                model: maverick
                promptText: "Rate the title {{steps.title}} for {{text}}"
                output: json
                schema:
                  type: object
                  required: [score, reason]
                  properties:
                    score: { type: integer, minimum: 1, maximum: 5 }
                    reason: { type: string }
            """);
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        foreach (var (name, upstream) in ProjectAnalysisPipeline.OpenRouterModels)
        {
            options.Models[name] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = upstream }] };
        }
        options.Pipelines["titles"] = Path.Combine(_folder, "titles.yaml");
        _gateway = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, _ => null);
        await _gateway.StartAsync();
        _http.BaseAddress = new Uri(GatewayServer.AddressOf(_gateway));
    }

    public void Dispose() => _http.Dispose();

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_run_answers_every_steps_output_and_seed_000s_metadata()
    {
        var response = await _http.PostAsJsonAsync("/v1/pipelines/titles/runs", new { input = new { text = "A gateway for many LLMs" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("titles", run["pipeline"]!.GetValue<string>());
        Assert.StartsWith("Simulated answer from meta-llama/llama-4-scout:free", run["outputs"]!["title"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.InRange(run["outputs"]!["judge"]!["score"]!.GetValue<int>(), 1, 5);
        Assert.False(run["steps"]!["judge"]!["fallback"]!.GetValue<bool>());
        Assert.Equal("meta-llama/llama-4-maverick:free", run["steps"]!["judge"]!["model"]!.GetValue<string>());
        var metadata = run["metadata"]!;
        Assert.Equal(2, metadata["api_calls"]!.GetValue<int>());
        Assert.Equal(0, metadata["cache_hits"]!.GetValue<int>());
        Assert.Equal(2, metadata["models_used"]!.AsArray().Count);
        Assert.True(metadata["total_time_seconds"]!.GetValue<double>() >= 0);
    }

    [Fact]
    public async Task The_list_has_the_configured_pipelines_and_the_built_in_analysis()
    {
        var list = JsonNode.Parse(await _http.GetStringAsync("/v1/pipelines"))!;

        var ids = list["data"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["project-analysis", "titles"], ids);
        var titles = list["data"]!.AsArray().Single(p => p!["id"]!.GetValue<string>() == "titles")!;
        Assert.Equal(["title"], titles["steps"]![1]!["needs"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("json", titles["steps"]![1]!["output"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/v1/pipelines/nowhere/runs", """{"input":{}}""", 404, "pipeline_not_found")]
    [InlineData("/v1/pipelines/titles/runs", """{"text":"no input object"}""", 400, "missing_required_parameter")]
    [InlineData("/v1/pipelines/titles/runs", """{"input": """, 400, "invalid_json")]
    [InlineData("/v1/pipelines/titles/runs", """{"input":{"text":"a","text":"b"}}""", 400, "invalid_json")]
    [InlineData("/v1/pipelines/titles/runs", """{"input":{"other":1}}""", 400, "missing_placeholder")]
    public async Task Bad_runs_get_a_4xx_in_openais_error_shape(string path, string body, int status, string code)
    {
        var response = await _http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        if (code == "missing_placeholder")
        {
            Assert.Contains("{{text}}", error["message"]!.GetValue<string>());
        }
    }
}
