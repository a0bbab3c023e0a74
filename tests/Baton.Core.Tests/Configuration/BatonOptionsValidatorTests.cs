using Baton.Configuration;

namespace Baton.Core.Tests.Configuration;

public sealed class BatonOptionsValidatorTests
{
    private static BatonOptions Valid()
    {
        var options = new BatonOptions();
        options.Providers["openrouter"] = new ProviderOptions { Type = "openai", BaseUrl = "https://openrouter.ai/api/v1", ApiKeyEnv = "OPENROUTER_API_KEY" };
        options.Models["scout"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "openrouter", Model = "meta-llama/llama-4-scout:free" }] };
        return options;
    }

    private static IReadOnlyList<string> Validate(BatonOptions options, string? key = "sk-or-123456789") =>
        BatonOptionsValidator.Validate(options, name => name == "OPENROUTER_API_KEY" ? key : null);

    [Fact]
    public void A_valid_configuration_has_no_errors() => Assert.Empty(Validate(Valid()));

    [Fact]
    public void Fallbacks_and_resilience_settings_are_checked_with_their_key_paths()
    {
        var options = Valid();
        options.Models["scout"].Fallbacks = ["scout", "missing"];
        options.Models["scout"].ContextWindowFallback = "huge";
        options.Models["scout"].Strategy = "fastest";
        options.Models["scout"].Deployments[0].Weight = 0;
        options.Resilience.MaxRetries = -1;
        options.Resilience.CircuitBreaker.FailureRatio = 1.5;
        options.Providers["openrouter"].Resilience = new ResilienceOptions { TotalTimeoutSeconds = 0 };
        options.Tiers["fast"] = new TierOptions { Models = ["nope"] };

        var errors = Validate(options);

        foreach (var key in new[]
        {
            "models.scout.fallbacks[0]: a model cannot fall back to itself",
            "models.scout.fallbacks[1]: 'missing' is not a configured model",
            "models.scout.contextWindowFallback: 'huge'",
            "models.scout.strategy: unknown strategy 'fastest'",
            "models.scout.deployments[0].weight",
            "resilience.maxRetries",
            "resilience.circuitBreaker.failureRatio",
            "providers.openrouter.resilience.totalTimeoutSeconds",
            "tiers.fast.models[0]: 'nope'",
        })
        {
            Assert.Contains(errors, e => e.StartsWith(key, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Unknown_provider_type_names_the_key()
    {
        var options = Valid();
        options.Providers["openrouter"].Type = "openia";
        Assert.Contains(Validate(options), e => e.StartsWith("providers.openrouter.type: unknown provider type 'openia'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_model_pointing_at_an_unknown_provider_names_the_deployment()
    {
        var options = Valid();
        options.Models["scout"].Deployments[0].Provider = "open-router";
        Assert.Contains(Validate(options), e => e.StartsWith("models.scout.deployments[0].provider: 'open-router' is not a configured provider", StringComparison.Ordinal));
    }

    [Fact]
    public void A_malformed_url_is_refused()
    {
        var options = Valid();
        options.Providers["openrouter"].BaseUrl = "openrouter.ai/api";
        Assert.Contains(Validate(options), e => e.StartsWith("providers.openrouter.baseUrl:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_key_variable_for_a_used_provider_is_an_error()
    {
        Assert.Contains(Validate(Valid(), key: null), e => e.StartsWith("providers.openrouter.apiKeyEnv: the environment variable 'OPENROUTER_API_KEY' is not set", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_key_for_an_unused_provider_is_fine()
    {
        var options = Valid();
        options.Providers["anthropic"] = new ProviderOptions { Type = "anthropic", ApiKeyEnv = "ANTHROPIC_API_KEY" };
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void A_literal_key_is_refused_with_the_reason()
    {
        var options = Valid();
        options.Providers["openrouter"].ApiKey = "sk-or-literal";
        var error = Assert.Single(Validate(options));
        Assert.Contains("literal key is refused", error);
        Assert.Contains("apiKeyEnv", error);
        Assert.DoesNotContain("sk-or-literal", error);
    }

    [Fact]
    public void Ollama_and_the_simulator_need_no_key()
    {
        var options = new BatonOptions();
        options.Providers["local"] = new ProviderOptions { Type = "ollama" };
        options.Providers["sim"] = new ProviderOptions { Type = "simulator" };
        options.Models["llama"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "local", Model = "llama3.2" }] };
        options.Models["sim"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = "s" }] };
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void All_problems_are_reported_at_once()
    {
        var options = Valid();
        options.Providers["openrouter"].Type = "nope";
        options.Models["broken"] = new ModelOptions();
        options.Defaults.Temperature = 3;
        Assert.True(Validate(options).Count >= 3);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8000/v1", true)]
    [InlineData("http://localhost:8081/v1", true)]
    [InlineData("http://192.168.1.20:8000/v1", true)]
    [InlineData("http://vllm:8000/v1", true)]
    [InlineData("https://openrouter.ai/api/v1", false)]
    [InlineData(null, false)]
    public void Openai_servers_on_private_addresses_need_no_key(string? baseUrl, bool valid)
    {
        var options = Valid();
        options.Providers["openrouter"].BaseUrl = baseUrl;
        options.Providers["openrouter"].ApiKeyEnv = null;
        Assert.Equal(valid, Validate(options).Count == 0);
    }
    [Fact]
    public void Allowed_hosts_and_cors_origins_are_checked_at_start_up()
    {
        var options = Valid();
        options.Gateway.AllowedHosts = ["baton.internal", "10.0.0.5", "[fd00::1]", "*", "http://baton.internal", "baton.internal:8080", ""];
        options.Gateway.Cors.AllowedOrigins = ["https://app.example.com", "http://localhost:3000", "*", "app.example.com", "https://app.example.com/", "https://app.example.com/path", "ftp://files.example.com"];

        var errors = Validate(options);

        Assert.Equal(7, errors.Count);
        foreach (var key in new[]
        {
            "gateway.allowedHosts[4]: 'http://baton.internal'", "gateway.allowedHosts[5]: 'baton.internal:8080'", "gateway.allowedHosts[6]: ''",
            "gateway.cors.allowedOrigins[3]: 'app.example.com'", "gateway.cors.allowedOrigins[4]: 'https://app.example.com/'",
            "gateway.cors.allowedOrigins[5]: 'https://app.example.com/path'", "gateway.cors.allowedOrigins[6]: 'ftp://files.example.com'",
        })
        {
            Assert.Contains(errors, e => e.StartsWith(key, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(1e300)]
    [InlineData(5e11)]
    [InlineData(-1)]
    public void A_cache_ttl_that_no_expiry_date_can_hold_is_refused(double seconds)
    {
        var options = Valid();
        options.Cache.TtlSeconds = seconds;
        options.Models["scout"].CacheTtlSeconds = seconds;

        var errors = Validate(options);

        Assert.Contains(errors, e => e.StartsWith("cache.ttlSeconds: must be greater than 0 and at most 2147483647", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("models.scout.cacheTtlSeconds: must be greater than 0 and at most 2147483647", StringComparison.Ordinal));
    }

    [Fact]
    public void A_model_kind_is_checked_against_its_providers_and_fallbacks()
    {
        var options = Valid();
        options.Providers["claude"] = new ProviderOptions { Type = "anthropic", ApiKeyEnv = "OPENROUTER_API_KEY" };
        options.Models["embed"] = new ModelOptions
        {
            Kind = "embeddings",
            Deployments = [new DeploymentOptions { Provider = "openrouter", Model = "text-embedding-3-small" }, new DeploymentOptions { Provider = "claude", Model = "claude" }],
            Fallbacks = ["scout"],
        };
        options.Models["odd"] = new ModelOptions { Kind = "rerank", Deployments = [new DeploymentOptions { Provider = "openrouter", Model = "x" }] };

        var errors = Validate(options);

        foreach (var key in new[]
        {
            "models.embed.deployments[1].provider: 'claude' is an Anthropic provider, which serves no embeddings",
            "models.embed.fallbacks[0]: 'scout' is of kind 'chat' and this model of kind 'embeddings'",
            "models.odd.kind: unknown kind 'rerank'",
        })
        {
            Assert.Contains(errors, e => e.StartsWith(key, StringComparison.Ordinal));
        }
        Assert.Equal(3, errors.Count);
    }
}
