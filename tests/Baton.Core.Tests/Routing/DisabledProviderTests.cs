using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Microsoft.Extensions.Configuration;

namespace Baton.Core.Tests.Routing;

/// <summary><c>providers.NAME.enabled: false</c>: the provider's deployments are skipped, and a model left with none says why.</summary>
public sealed class DisabledProviderTests
{
    [Fact]
    public async Task The_deployments_of_a_disabled_provider_are_skipped()
    {
        var harness = new EngineHarness();
        harness.Model("m", "local", "cloud");
        harness.Options.Providers["local"].Enabled = false;

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal("cloud/m", result.Route.Deployment);
        Assert.Equal(0, harness.Provider("local").Calls);
        Assert.DoesNotContain(harness.Engine.Catalog.Deployments, d => d.Provider.Name == "local");
    }

    [Fact]
    public async Task A_model_whose_providers_are_all_disabled_is_a_404_naming_the_key()
    {
        var harness = new EngineHarness();
        harness.Model("llama", "ollama");
        harness.Model("m", "cloud");
        harness.Options.Providers["ollama"].Enabled = false;

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("llama")));

        Assert.Equal(404, error.StatusCode);
        Assert.Equal("provider_disabled", error.Code);
        Assert.Contains("providers.ollama.enabled", error.Message);
        Assert.DoesNotContain(harness.Engine.Catalog.Models, model => model.Name == "llama");
    }

    [Fact]
    public async Task A_fallback_on_a_disabled_provider_is_passed_over()
    {
        var harness = new EngineHarness();
        harness.Model("m", "cloud").Fallbacks = ["llama", "spare"];
        harness.Model("llama", "ollama");
        harness.Model("spare", "backup");
        harness.Options.Providers["ollama"].Enabled = false;
        harness.Provider("cloud").Fail(500, times: 10);

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal("backup/m", result.Route.Deployment);
        Assert.Equal(0, harness.Provider("ollama").Calls);
    }

    [Fact]
    public void An_environment_variable_can_switch_a_provider_off_and_its_key_is_then_not_needed()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["providers:ollama:type"] = "ollama",
            ["providers:openrouter:type"] = "openai",
            ["providers:openrouter:baseUrl"] = "https://openrouter.ai/api/v1",
            ["providers:openrouter:apiKeyEnv"] = "UNSET_KEY_FOR_TEST",
            ["models:local:deployments:0:provider"] = "ollama",
            ["models:local:deployments:0:model"] = "llama3.2",
            ["models:scout:deployments:0:provider"] = "openrouter",
            ["models:scout:deployments:0:model"] = "meta-llama/llama-4-scout:free",
            // What Baton__Providers__openrouter__Enabled=false sets.
            ["Providers:openrouter:Enabled"] = "false",
        }).Build();

        var options = BatonConfigurationLoader.Bind(configuration);

        Assert.False(options.Providers["openrouter"].Enabled);
        Assert.True(options.Providers["ollama"].Enabled);
        Assert.Empty(BatonOptionsValidator.Validate(options, _ => null));
    }
}
