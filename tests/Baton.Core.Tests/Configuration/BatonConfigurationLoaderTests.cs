using Baton.Configuration;

namespace Baton.Core.Tests.Configuration;

public sealed class BatonConfigurationLoaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void No_configuration_at_all_means_the_built_in_simulator()
    {
        var loaded = BatonConfigurationLoader.Load(null, _directory);
        Assert.Null(loaded.FilePath);
        Assert.True(loaded.Options.IsBuiltInDefault);
        Assert.Equal("simulator", loaded.Options.Providers[loaded.Options.Models[BuiltInConfiguration.DefaultModel].Deployments[0].Provider!].Type);
    }

    [Fact]
    public void Baton_json_in_the_working_directory_is_read_with_case_insensitive_keys()
    {
        File.WriteAllText(Path.Combine(_directory, "baton.json"), """
            { "Providers": { "OpenRouter": { "TYPE": "openai", "baseurl": "https://openrouter.ai/api/v1", "apiKeyEnv": "OR_KEY",
                                             "headers": { "HTTP-Referer": "https://example.org", "X-Title": "Baton" } } },
              "models": { "Scout": { "deployments": [ { "provider": "openrouter", "model": "meta-llama/llama-4-scout:free", "temperature": 0.3 } ] } },
              "defaults": { "maxTokens": 512, "timeoutSeconds": 30 } }
            """);
        var options = BatonConfigurationLoader.Load(null, _directory).Options;

        Assert.False(options.IsBuiltInDefault);
        Assert.Equal("openai", options.Providers["openrouter"].Type);
        Assert.Equal("Baton", options.Providers["OPENROUTER"].Headers["x-title"]);
        Assert.Equal(0.3, options.Models["scout"].Deployments[0].Temperature);
        Assert.Equal(512, options.Defaults.MaxTokens);
        Assert.Equal(30, options.Defaults.TimeoutSeconds);
    }

    [Fact]
    public void The_gateways_allowed_hosts_and_cors_origins_are_read_from_the_file()
    {
        File.WriteAllText(Path.Combine(_directory, "baton.json"), """
            { "providers": { "sim": { "type": "simulator" } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "gateway": { "allowedHosts": ["baton.internal", "10.0.0.5"], "cors": { "allowedOrigins": ["http://localhost:3000"] } } }
            """);

        var options = BatonConfigurationLoader.Load(null, _directory).Options;

        Assert.Equal(["baton.internal", "10.0.0.5"], options.Gateway.AllowedHosts);
        Assert.Equal(["http://localhost:3000"], options.Gateway.Cors.AllowedOrigins);
    }

    [Fact]
    public void Environment_variables_override_the_file()
    {
        var path = Path.Combine(_directory, "custom.json");
        File.WriteAllText(path, """{ "providers": { "sim": { "type": "simulator" } }, "models": { "m": { "deployments": [ { "provider": "sim", "model": "x" } ] } }, "defaults": { "maxTokens": 10 } }""");
        Environment.SetEnvironmentVariable("Baton__Defaults__MaxTokens", "77");
        try
        {
            var loaded = BatonConfigurationLoader.Load(path, _directory);
            Assert.Equal(path, loaded.FilePath);
            Assert.Equal(77, loaded.Options.Defaults.MaxTokens);
        }
        finally
        {
            Environment.SetEnvironmentVariable("Baton__Defaults__MaxTokens", null);
        }
    }

    [Fact]
    public void An_unknown_key_is_a_clear_error()
    {
        var path = Path.Combine(_directory, "typo.json");
        File.WriteAllText(path, """{ "providers": { "x": { "type": "openai", "apiKeyEnvv": "K" } }, "models": {} }""");
        var error = Assert.Throws<BatonConfigurationException>(() => BatonConfigurationLoader.Load(path, _directory));
        Assert.Contains("apiKeyEnvv", Assert.Single(error.Errors));
    }

    [Fact]
    public void Invalid_json_and_a_missing_file_are_clear_errors()
    {
        var path = Path.Combine(_directory, "broken.json");
        File.WriteAllText(path, """{ "providers": { """);
        Assert.Contains("not valid JSON", Assert.Single(Assert.Throws<BatonConfigurationException>(() => BatonConfigurationLoader.Load(path, _directory)).Errors));
        Assert.Contains("does not exist", Assert.Single(Assert.Throws<BatonConfigurationException>(() => BatonConfigurationLoader.Load("missing.json", _directory)).Errors));
    }

    [Fact]
    public void The_library_loader_leaves_the_process_environment_alone()
    {
        // Loading .env is the command line's business; a library must not change its host's environment.
        var variable = "BATON_TEST_KEY_" + Guid.NewGuid().ToString("N");
        File.WriteAllText(Path.Combine(_directory, ".env"), $"{variable}=from-dotenv\n");
        BatonConfigurationLoader.Load(null, _directory);
        Assert.Null(Environment.GetEnvironmentVariable(variable));
    }

    [Fact]
    public async Task A_watched_file_is_reloaded_when_it_changes()
    {
        // Watching polls the file (every four seconds) instead of handing its folder to an OS watcher, which would
        // wake up for every write of the ledger and cache files beside it; an edit is still picked up.
        var path = Path.Combine(_directory, "baton.json");
        File.WriteAllText(path, """{ "defaults": { "maxTokens": 512 } }""");
        var loaded = BatonConfigurationLoader.Load(null, _directory, watch: true);
        try
        {
            var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var subscription = loaded.Configuration.GetReloadToken().RegisterChangeCallback(_ => reloaded.TrySetResult(), null);
            File.WriteAllText(path, """{ "defaults": { "maxTokens": 1024 } }""");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));

            await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1024, BatonConfigurationLoader.Bind(loaded.Configuration).Defaults.MaxTokens);
        }
        finally
        {
            (loaded.Configuration as IDisposable)?.Dispose();
        }
    }
}
