using System.Text.Json.Nodes;
using Baton.Analysis;
using Baton.Client;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Hosting;
using Baton.Pipelines;
using Baton.Pipelines.Caching;
using Baton.Simulation;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Core.Tests.Pipelines;

/// <summary>Pipelines run through the real engine on the in-process simulator, on a fake clock.</summary>
public sealed class PipelineRunnerTests : IAsyncDisposable, IDisposable
{
    private const double LatencyMs = 1000;

    private readonly TrackingTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly string _cacheFolder = Directory.CreateTempSubdirectory("baton-pipeline-cache-").FullName;
    private readonly ServiceProvider _services;

    public PipelineRunnerTests()
    {
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator, Simulator = new SimulatorBehavior { LatencyMs = LatencyMs } };
        foreach (var (name, upstream) in ProjectAnalysisPipeline.OpenRouterModels)
        {
            options.Models[name] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = upstream }] };
        }
        options.Models["broken"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = "baton-sim-1@503" }] };
        options.Resilience = new ResilienceOptions { MaxRetries = 0 };
        _services = new ServiceCollection().AddSingleton<TimeProvider>(_time).AddBaton(options).AddBatonSimulator().BuildServiceProvider();
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    public void Dispose() => Directory.Delete(_cacheFolder, recursive: true);

    private PipelineRunner Runner(bool cached = false, int? requestsPerMinute = null) =>
        new(_services.GetRequiredService<BatonChatClient>(), _time, cached ? new FilePipelineResultCache(_cacheFolder) : null, requestsPerMinute);

    private static JsonObject ProjectInput(string codeFingerprint = "c1") => JsonNode.Parse($$"""
        {
          "project": { "name": "demo", "path": "/src/demo", "languages": ["python"],
                       "code_analysis": { "files": 12, "lines": 900, "dependency_manifests": ["requirements.txt"], "tests": { "present": true } },
                       "deployment_analysis": { "dockerfile": true }, "doc_analysis": { "readme": true } },
          "fingerprints": { "all": "a-{{codeFingerprint}}", "code": "{{codeFingerprint}}", "deployment": "d1", "docs": "x1" },
          "readme_excerpt": "# Demo\nA demo project."
        }
        """)!.AsObject();

    /// <summary>Moves the fake clock, while the run waits on it, until the run is over, as the simulator's latency needs.</summary>
    private Task<T> DriveAsync<T>(Func<Task<T>> run, Func<bool>? parked = null) => _time.DriveAsync(run, TimeSpan.FromMilliseconds(50), parked);

    [Fact]
    public async Task The_three_roles_overlap_and_the_aggregator_follows_so_a_project_takes_two_latencies_not_four()
    {
        // The clock moves only once all three roles wait for their answers, then (their latency over) once the
        // aggregator does: a role that is slow to start on a busy machine never sees the clock run ahead of it.
        var rolesDone = _time.GetUtcNow().AddMilliseconds(LatencyMs);
        var result = await DriveAsync(() => Runner().RunAsync(ProjectAnalysisPipeline.Load(), ProjectInput()),
            parked: () => _time.ParkedDelays >= 3 || (_time.GetUtcNow() >= rolesDone && _time.ParkedDelays >= 1));

        var roles = new[] { "architect", "deployment", "business" }.Select(r => result.Steps[r]).ToList();
        var aggregator = result.Steps["aggregator"];
        // Every role started before any role finished: they ran at the same time, each taking one latency.
        Assert.True(roles.Max(r => r.StartedMs) < roles.Min(r => r.FinishedMs));
        Assert.All(roles, r => Assert.InRange(r.FinishedMs - r.StartedMs, LatencyMs, LatencyMs * 1.5));
        Assert.True(aggregator.StartedMs >= roles.Max(r => r.FinishedMs));
        // About 2L (fake clock, moved in 50 ms steps); sequential calls would take 4L.
        Assert.InRange(result.Metadata.TotalTimeSeconds, 2 * LatencyMs / 1000, 2.5 * LatencyMs / 1000);

        Assert.Equal(4, result.Metadata.ApiCalls);
        Assert.Equal(0, result.Metadata.CacheHits);
        Assert.Equal(ProjectAnalysisPipeline.OpenRouterModels.Values.Order(StringComparer.Ordinal), result.Metadata.ModelsUsed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Json_outputs_follow_seed_000s_types_even_from_a_reasoning_model_that_thinks_aloud()
    {
        var result = await DriveAsync(() => Runner().RunAsync(ProjectAnalysisPipeline.Load(), ProjectInput()));

        Assert.All(result.Steps.Values, s => Assert.False(s.Fallback, s.Error));
        var business = result.Outputs["business"]!.AsObject();
        Assert.InRange(business["market_viability"]!.GetValue<int>(), 0, 10);
        Assert.Contains(business["portfolio_suitable"]!.GetValueKind(), new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });
        Assert.Equal("deepseek/deepseek-r1:free", result.Steps["business"].Model);
        var architect = result.Outputs["architect"]!.AsObject();
        Assert.IsType<JsonArray>(architect["design_patterns"]);
        Assert.Contains(architect["technical_debt_priority"]!.GetValue<string>(), new[] { "low", "medium", "high", "critical" });
        var aggregated = result.Outputs["aggregator"]!.AsObject();
        Assert.InRange(aggregated["vibecodibility_score"]!.GetValue<int>(), 0, 10);
        Assert.InRange(aggregated["borg_tools_fit"]!.GetValue<int>(), 0, 10);
        Assert.IsType<JsonArray>(aggregated["top_priorities"]);
    }

    [Fact]
    public async Task A_second_run_on_unchanged_input_makes_no_call_and_a_changed_fingerprint_reruns_only_what_it_affects()
    {
        var pipeline = ProjectAnalysisPipeline.Load();
        var first = await DriveAsync(() => Runner(cached: true).RunAsync(pipeline, ProjectInput()));
        // Every step from the cache: nothing waits on the clock, so the run is not driven and takes no time at all.
        var second = await Runner(cached: true).RunAsync(pipeline, ProjectInput());
        var changed = await DriveAsync(() => Runner(cached: true).RunAsync(pipeline, ProjectInput(codeFingerprint: "c2")));

        Assert.Equal((4, 0), (first.Metadata.ApiCalls, first.Metadata.CacheHits));
        Assert.Equal((0, 4), (second.Metadata.ApiCalls, second.Metadata.CacheHits));
        Assert.Equal(first.Outputs["aggregator"]!.ToJsonString(), second.Outputs["aggregator"]!.ToJsonString());
        Assert.All(second.Steps.Values, s => Assert.True(s.Cached));
        Assert.Equal(first.Metadata.ModelsUsed.Order(StringComparer.Ordinal), second.Metadata.ModelsUsed.Order(StringComparer.Ordinal));
        Assert.Equal(0, second.Metadata.TotalTimeSeconds);

        // The code changed: the architect (and the aggregator, which uses it) ask again; the others stay cached.
        Assert.Equal((2, 2), (changed.Metadata.ApiCalls, changed.Metadata.CacheHits));
        Assert.False(changed.Steps["architect"].Cached);
        Assert.False(changed.Steps["aggregator"].Cached);
        Assert.True(changed.Steps["deployment"].Cached);
        Assert.True(changed.Steps["business"].Cached);
    }

    [Fact]
    public async Task A_step_whose_model_fails_yields_its_fallback_and_the_pipeline_goes_on()
    {
        var pipeline = PipelineLoader.Load("""
            name: partial
            steps:
              facts:
                model: broken
                promptText: "Facts about {{topic}}"
                output: json
                fallback: { facts: [] }
              story:
                model: scout
                promptText: "Write about {{topic}} using {{steps.facts}}"
            """, "partial.yaml", _ => null);

        var result = await DriveAsync(() => Runner(cached: true).RunAsync(pipeline, JsonNode.Parse("""{"topic":"bees"}""")!.AsObject()));

        var facts = result.Steps["facts"];
        Assert.True(facts.Fallback);
        Assert.Contains("503", facts.Error, StringComparison.Ordinal);
        Assert.Equal("""{"facts":[],"fallback":true,"error":""" + System.Text.Json.JsonSerializer.Serialize(facts.Error) + "}", result.Outputs["facts"]!.ToJsonString());
        Assert.False(result.Steps["story"].Fallback);
        Assert.StartsWith("Simulated answer from", result.Outputs["story"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, result.Metadata.ApiCalls);
        // A fallback is never cached, nor is what was built on it: the next run asks both again.
        var again = await DriveAsync(() => Runner(cached: true).RunAsync(pipeline, JsonNode.Parse("""{"topic":"bees"}""")!.AsObject()));
        Assert.Equal((2, 0), (again.Metadata.ApiCalls, again.Metadata.CacheHits));
    }

    [Fact]
    public async Task An_input_that_leaves_placeholders_empty_is_refused_before_any_call()
    {
        var input = ProjectInput();
        input.Remove("readme_excerpt");
        input["project"]!.AsObject().Remove("name");

        var error = await Assert.ThrowsAsync<PipelineInputException>(() => Runner().RunAsync(ProjectAnalysisPipeline.Load(), input));

        Assert.Contains(error.Errors, e => e.Contains("{{readme_excerpt}}", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("steps.architect: architect.txt uses {{project.name}}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_answer_that_fails_its_schema_is_sent_back_once_with_the_problems()
    {
        var chat = new ScriptedChatClient("Here you go: {\"score\": \"high\"}", "{\"score\": 7}");
        var pipeline = PipelineLoader.Load("""
            {"name":"score","steps":{"judge":{"model":"m","promptText":"Score it","output":"json",
              "schema":{"type":"object","required":["score"],"properties":{"score":{"type":"integer","minimum":0,"maximum":10}}}}}}
            """, "score.json", _ => null);

        var result = await new PipelineRunner(chat, _time).RunAsync(pipeline, []);

        var judge = result.Steps["judge"];
        Assert.True(judge.Reasked);
        Assert.False(judge.Fallback);
        Assert.Equal(2, judge.ApiCalls);
        Assert.Equal(7, result.Outputs["judge"]!["score"]!.GetValue<int>());
        var reask = chat.Calls[1];
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.User], reask.Select(m => m.Role));
        Assert.Contains("score", reask[2].Text, StringComparison.Ordinal);
        Assert.Equal(pipeline.Steps[0].Schema!.Value.GetRawText(),
            Assert.IsType<ChatResponseFormatJson>(chat.Options[0]!.ResponseFormat).Schema!.Value.GetRawText());
    }

    [Fact]
    public async Task An_answer_that_fails_twice_becomes_the_fallback_with_the_problems()
    {
        var chat = new ScriptedChatClient("no json here", "still none");
        var pipeline = PipelineLoader.Load("""{"name":"p","steps":{"s":{"model":"m","promptText":"Go","output":"json"}}}""", "p.json", _ => null);

        var result = await new PipelineRunner(chat, _time).RunAsync(pipeline, []);

        Assert.True(result.Steps["s"].Fallback);
        Assert.Contains("even when asked again", result.Steps["s"].Error, StringComparison.Ordinal);
        Assert.Equal(2, result.Metadata.ApiCalls);
    }

    [Fact]
    public async Task The_pacer_spaces_calls_to_the_requests_per_minute_it_is_given()
    {
        var chat = new ScriptedChatClient("a", "b", "c");
        var pipeline = PipelineLoader.Load("""
            {"name":"p","steps":{"a":{"model":"m","promptText":"1"},"b":{"model":"m","promptText":"2"},"c":{"model":"m","promptText":"3"}}}
            """, "p.json", _ => null);

        var result = await DriveAsync(() => new PipelineRunner(chat, _time, requestsPerMinute: 2).RunAsync(pipeline, []));

        // Two calls go at once; the third waits for the bucket to refill one request: 30 s at 2 a minute.
        Assert.InRange(result.Metadata.TotalTimeSeconds, 30, 31);
        Assert.Equal(3, result.Metadata.ApiCalls);
    }

    [Fact]
    public async Task A_model_name_moved_to_other_deployments_does_not_get_the_old_deployments_answers()
    {
        var pipeline = PipelineLoader.Load("""{"name":"p","steps":{"a":{"model":"scout","promptText":"Hello"}}}""", "p.json", _ => null);
        var simulated = new PipelineRunner(_services.GetRequiredService<BatonChatClient>(), _time, new FilePipelineResultCache(_cacheFolder),
            modelIdentity: _ => "scout=simulator||meta-llama/llama-4-scout:free");
        var elsewhere = new PipelineRunner(_services.GetRequiredService<BatonChatClient>(), _time, new FilePipelineResultCache(_cacheFolder),
            modelIdentity: _ => "scout=openai|https://openrouter.ai/api/v1|meta-llama/llama-4-scout:free");

        await DriveAsync(() => simulated.RunAsync(pipeline, []));
        var again = await DriveAsync(() => simulated.RunAsync(pipeline, []));
        var moved = await DriveAsync(() => elsewhere.RunAsync(pipeline, []));

        Assert.Equal(1, again.Metadata.CacheHits);
        Assert.Equal((1, 0), (moved.Metadata.ApiCalls, moved.Metadata.CacheHits));
    }

    [Fact]
    public async Task A_step_built_on_a_fallback_is_not_cached_and_a_missing_field_of_it_makes_the_step_fall_back_too()
    {
        var pipeline = PipelineLoader.Load("""
            name: chain
            steps:
              facts:
                model: broken
                promptText: "Facts about {{topic}}"
                output: json
              summary:
                model: scout
                promptText: "Summarise {{steps.facts}}"
              count:
                model: scout
                promptText: "Count {{steps.facts.items}}"
            """, "chain.yaml", _ => null);
        var input = JsonNode.Parse("""{"topic":"bees"}""")!.AsObject();

        var first = await DriveAsync(() => Runner(cached: true).RunAsync(pipeline, input));
        var second = await DriveAsync(() => Runner(cached: true).RunAsync(pipeline, input));

        Assert.True(first.Steps["facts"].Fallback);
        Assert.False(first.Steps["summary"].Fallback);
        // {{steps.facts.items}} has no value in the fallback: that step falls back, without a call, and the run goes on.
        Assert.True(first.Steps["count"].Fallback);
        Assert.Contains("{{steps.facts.items}}", first.Steps["count"].Error, StringComparison.Ordinal);
        Assert.Equal(0, first.Steps["count"].ApiCalls);
        // The summary of a fallback is asked again next time, not served from the cache.
        Assert.Equal((2, 0), (second.Metadata.ApiCalls, second.Metadata.CacheHits));
        Assert.False(second.Steps["summary"].Cached);
    }

    [Fact]
    public async Task A_cache_folder_that_cannot_be_written_costs_the_cache_hit_not_the_answer()
    {
        var blocked = Path.Combine(_cacheFolder, "not-a-folder");
        File.WriteAllText(blocked, "a file where the cache folder should be");
        var pipeline = PipelineLoader.Load("""{"name":"p","steps":{"a":{"model":"scout","promptText":"Hello"}}}""", "p.json", _ => null);
        var runner = new PipelineRunner(_services.GetRequiredService<BatonChatClient>(), _time, new FilePipelineResultCache(blocked));

        var result = await DriveAsync(() => runner.RunAsync(pipeline, []));

        Assert.False(result.Steps["a"].Fallback);
        Assert.StartsWith("Simulated answer", result.Outputs["a"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["not-a-folder"], Directory.GetFileSystemEntries(_cacheFolder).Select(Path.GetFileName));
    }

    /// <summary>Answers with the given texts in turn, and keeps what it was asked.</summary>
    private sealed class ScriptedChatClient(params string[] answers) : IChatClient
    {
        private int _next;

        public List<List<ChatMessage>> Calls { get; } = [];

        public List<ChatOptions?> Options { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            lock (Calls)
            {
                Calls.Add(messages.ToList());
                Options.Add(options);
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answers[_next++])));
            }
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
