using Baton.Configuration;
using Microsoft.Extensions.Configuration;

namespace Baton.Core.Tests.Configuration;

/// <summary>The <c>rateLimits</c> keys: bound from JSON, and refused with the key path when out of range.</summary>
public sealed class RateLimitValidationTests
{
    private static BatonOptions Valid()
    {
        var options = new BatonOptions();
        options.Providers["openrouter"] = new ProviderOptions { Type = "openai", BaseUrl = "https://openrouter.ai/api/v1", ApiKeyEnv = "OPENROUTER_API_KEY" };
        options.Models["scout"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "openrouter", Model = "meta-llama/llama-4-scout:free" }] };
        return options;
    }

    private static IReadOnlyList<string> Validate(BatonOptions options) =>
        BatonOptionsValidator.Validate(options, name => name == "OPENROUTER_API_KEY" ? "sk-or-123456789" : null);

    [Fact]
    public void Sensible_limits_are_accepted()
    {
        var options = Valid();
        options.Providers["openrouter"].RateLimits = new RateLimitOptions { RequestsPerMinute = 20, TokensPerMinute = 100_000, MaxConcurrency = 4, MaxQueueWaitSeconds = 0 };
        options.Models["scout"].Deployments[0].RateLimits = new RateLimitOptions { RequestsPerMinute = 10 };
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void Limits_that_are_not_positive_are_refused_with_their_key_path()
    {
        var options = Valid();
        options.Providers["openrouter"].RateLimits = new RateLimitOptions { MaxConcurrency = 0, MaxQueueWaitSeconds = -1 };
        options.Models["scout"].Deployments[0].RateLimits = new RateLimitOptions { RequestsPerMinute = 0, TokensPerMinute = -5 };

        var errors = Validate(options);

        Assert.Contains(errors, e => e.StartsWith("providers.openrouter.rateLimits.maxConcurrency: 0 must be at least 1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("providers.openrouter.rateLimits.maxQueueWaitSeconds: -1 is out of range", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("models.scout.deployments[0].rateLimits.requestsPerMinute: 0 must be at least 1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("models.scout.deployments[0].rateLimits.tokensPerMinute: -5 must be at least 1", StringComparison.Ordinal));
        Assert.Equal(4, errors.Count);
    }

    [Fact]
    public void The_keys_bind_from_json()
    {
        var json = """
            {
              "providers": { "openrouter": { "type": "openai", "baseUrl": "https://openrouter.ai/api/v1", "apiKeyEnv": "OPENROUTER_API_KEY",
                                             "rateLimits": { "requestsPerMinute": 20, "maxQueueWaitSeconds": 12.5 } } },
              "models": { "scout": { "deployments": [ { "provider": "openrouter", "model": "x:free",
                                                        "rateLimits": { "tokensPerMinute": 9000, "maxConcurrency": 2 } } ] } }
            }
            """;
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();

        var options = BatonConfigurationLoader.Bind(configuration);

        var provider = options.Providers["openrouter"].RateLimits!;
        Assert.Equal(20, provider.RequestsPerMinute);
        Assert.Equal(12.5, provider.MaxQueueWaitSeconds);
        var deployment = options.Models["scout"].Deployments[0].RateLimits!;
        Assert.Equal(9000, deployment.TokensPerMinute);
        Assert.Equal(2, deployment.MaxConcurrency);
    }
}
