using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Cli;

/// <summary>The <c>baton</c> command, run in process with captured input and output.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<(int Exit, string Out, string Error)> RunAsync(string input, params string[] args) => CliRun.RunAsync(_directory, input, args);

    [Fact]
    public async Task Chat_works_on_a_fresh_machine_and_says_it_uses_the_simulator()
    {
        var (exit, output, _) = await RunAsync("", "chat", "What is Baton?");
        Assert.Equal(0, exit);
        Assert.Contains("built-in simulator", output);
        Assert.Contains("What is Baton?", output);
        Assert.Contains("simulator/baton-sim-1", output);
    }

    [Fact]
    public async Task Chat_streams_with_a_system_prompt_and_a_chosen_model()
    {
        var (exit, output, _) = await RunAsync("", "chat", "--stream", "--model", "baton-sim-reasoning", "--system", "Be terse.", "Why?");
        Assert.Equal(0, exit);
        Assert.Contains("baton-sim-reasoning-1", output);
    }

    [Fact]
    public async Task Interactive_chat_keeps_history_and_obeys_commands()
    {
        var script = string.Join('\n', "First question", "/system Answer in one line.", "/model baton-sim-reasoning", "Second question", "/reset", "Third question", "/exit", "Never asked");
        var (exit, output, _) = await RunAsync(script, "chat");

        Assert.Equal(0, exit);
        Assert.Contains("First question", output);
        Assert.Contains("System prompt set.", output);
        Assert.Contains("Model: baton-sim-reasoning", output);
        Assert.Contains("Simulated answer from baton-sim-reasoning-1 to \"Second question\"", output);
        Assert.Contains("History cleared.", output);
        Assert.Contains("Third question", output);
        Assert.DoesNotContain("Never asked", output);
        Assert.Contains("Bye.", output);
    }

    [Fact]
    public async Task Models_lists_the_built_in_models()
    {
        var (exit, output, _) = await RunAsync("", "models");
        Assert.Equal(0, exit);
        Assert.Contains("baton-sim", output);
        Assert.Contains("simulator", output);
    }

    [Fact]
    public async Task Cache_stats_and_purge_work_on_the_configured_cache_file()
    {
        var file = Path.Combine(_directory, "answers.db").Replace("\\", "/", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_directory, "baton.json"), $$"""
            {
              "providers": { "sim": { "type": "simulator" } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "cache": { "mode": "on", "store": "sqlite", "path": "{{file}}" }
            }
            """);
        Assert.Equal(0, (await RunAsync("", "chat", "Remember this")).Exit);
        var (_, again, _) = await RunAsync("", "chat", "Remember this");
        Assert.Contains("Remember this", again);

        var (statsExit, stats, _) = await RunAsync("", "cache", "stats");
        Assert.Equal(0, statsExit);
        Assert.Matches(@"on\s*│\s*1\s*│", stats);

        var (purgeExit, purged, _) = await RunAsync("", "cache", "purge", "--model", "m");
        Assert.Equal(0, purgeExit);
        Assert.Contains("Deleted 1 cached answer(s) of model m.", purged);
    }

    [Fact]
    public async Task Cache_stats_without_a_cache_file_says_why()
    {
        var (exit, _, error) = await RunAsync("", "cache", "stats");
        Assert.Equal(1, exit);
        Assert.Contains("keeps no cache file", error);
    }

    [Fact]
    public async Task Batch_runs_a_jsonl_file_and_a_rerun_skips_what_is_done()
    {
        File.WriteAllLines(Path.Combine(_directory, "in.jsonl"),
        [
            """{"custom_id":"a","body":{"model":"baton-sim","messages":[{"role":"user","content":"First"}]}}""",
            """{"custom_id":"b","body":{"model":"baton-sim","messages":[{"role":"user","content":"Second"}]}}""",
            "not json",
        ]);

        var (exit, output, error) = await RunAsync("", "batch", "in.jsonl", "-o", "out.jsonl");

        Assert.Equal(1, exit);
        Assert.Contains("line 3 skipped", error);
        Assert.Contains("2 answered (0 failed", output);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_directory, "out.jsonl")).Length);

        var (_, again, _) = await RunAsync("", "batch", "in.jsonl", "-o", "out.jsonl");
        Assert.Contains("0 answered", again);
        Assert.Contains("2 already done", again);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_directory, "out.jsonl")).Length);
    }

    [Fact]
    public async Task Health_probes_every_deployment_and_prints_a_table()
    {
        var (exit, output, _) = await RunAsync("", "health");
        Assert.Equal(0, exit);
        Assert.Contains("simulator/baton-sim-1", output);
        Assert.Contains("HEALTHY", output);
        Assert.Contains("Overall: ok", output);
    }

    [Fact]
    public async Task Health_exits_non_zero_when_a_deployment_fails_its_probe()
    {
        File.WriteAllText(Path.Combine(_directory, "baton.json"), """
            {
              "providers": { "sim": { "type": "simulator" } },
              "models": {
                "good": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] },
                "bad": { "deployments": [ { "provider": "sim", "model": "baton-sim-1@503" } ] }
              }
            }
            """);
        var (exit, output, _) = await RunAsync("", "health");
        Assert.Equal(1, exit);
        Assert.Contains("failed", output);
        Assert.Contains("Overall: degraded", output);
    }

    [Fact]
    public async Task Health_reports_an_unreachable_gateway_plainly()
    {
        var (exit, _, error) = await RunAsync("", "health", "--url", "http://127.0.0.1:9");
        Assert.Equal(1, exit);
        Assert.Contains("could not reach the gateway", error);
    }

    [Fact]
    public async Task An_invalid_configuration_exits_non_zero_naming_each_key_without_a_stack_trace()
    {
        var config = Path.Combine(_directory, "bad.json");
        File.WriteAllText(config, """
            { "providers": { "or": { "type": "openrouterx", "baseUrl": "not a url" },
                             "anthropic": { "type": "anthropic", "apiKeyEnv": "BATON_TEST_UNSET_VARIABLE" } },
              "models": { "a": { "deployments": [ { "provider": "missing", "model": "x" } ] },
                          "b": { "deployments": [ { "provider": "anthropic", "model": "claude" } ] } } }
            """);
        foreach (var command in new[] { "serve", "chat", "models" })
        {
            var args = command == "chat" ? new[] { command, "--config", config, "hi" } : new[] { command, "--config", config };
            var (exit, _, error) = await RunAsync("", args);

            Assert.Equal(2, exit);
            Assert.Contains("providers.or.type: unknown provider type 'openrouterx'", error);
            Assert.Contains("providers.or.baseUrl", error);
            Assert.Contains("models.a.deployments[0].provider: 'missing'", error);
            Assert.Contains("providers.anthropic.apiKeyEnv: the environment variable 'BATON_TEST_UNSET_VARIABLE' is not set", error);
            Assert.DoesNotContain("   at ", error);
        }
    }

    [Fact]
    public async Task A_literal_key_in_the_file_is_refused()
    {
        var config = Path.Combine(_directory, "literal.json");
        File.WriteAllText(config, """{ "providers": { "openai": { "type": "openai", "apiKey": "sk-live-secret-value" } }, "models": { "g": { "deployments": [ { "provider": "openai", "model": "gpt-4o" } ] } } }""");
        var (exit, _, error) = await RunAsync("", "models", "--config", config);
        Assert.Equal(2, exit);
        Assert.Contains("providers.openai.apiKey: a literal key is refused", error);
        Assert.DoesNotContain("sk-live-secret-value", error);
    }

    [Fact]
    public async Task Every_command_has_help()
    {
        foreach (var command in new[] { "serve", "chat", "models", "simulate" })
        {
            var (exit, output, _) = await RunAsync("", command, "--help");
            Assert.Equal(0, exit);
            Assert.Contains("Usage:", output);
        }
    }

    [Fact]
    public async Task Unknown_model_in_chat_is_a_clear_error()
    {
        var (exit, _, error) = await RunAsync("", "chat", "--model", "gpt-9", "hi");
        Assert.Equal(1, exit);
        Assert.Contains("unknown model 'gpt-9'", error);
    }
}
