using Baton.Configuration;
using Baton.Core.Tests.TestSupport;

namespace Baton.Core.Tests.Providers;

/// <summary>Base URLs written the way each vendor's SDK takes them work, and an endpoint given as a base URL is explained.</summary>
public sealed class BaseUrlTests(SimulatorServer simulator) : IClassFixture<SimulatorServer>
{
    [Theory]
    [InlineData(ProviderTypes.Anthropic, "https://api.anthropic.com", "https://api.anthropic.com/v1")]
    [InlineData(ProviderTypes.Anthropic, "https://api.anthropic.com/", "https://api.anthropic.com/v1")]
    [InlineData(ProviderTypes.Anthropic, "https://api.anthropic.com/v1", "https://api.anthropic.com/v1")]
    [InlineData(ProviderTypes.Gemini, "https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta")]
    [InlineData(ProviderTypes.Gemini, "https://generativelanguage.googleapis.com/v1", "https://generativelanguage.googleapis.com/v1")]
    [InlineData(ProviderTypes.OpenAi, "https://openrouter.ai/api/v1/", "https://openrouter.ai/api/v1")]
    [InlineData(ProviderTypes.Ollama, "http://127.0.0.1:11434", "http://127.0.0.1:11434")]
    public void Sdk_style_base_urls_get_the_api_version_path(string type, string configured, string used) =>
        Assert.Equal(used, ProviderTypes.ResolveBaseUrl(type, configured));

    [Theory]
    [InlineData(ProviderTypes.OpenAi, "https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1")]
    [InlineData(ProviderTypes.Anthropic, "https://api.anthropic.com/v1/messages", "https://api.anthropic.com")]
    [InlineData(ProviderTypes.Gemini, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", "https://generativelanguage.googleapis.com")]
    [InlineData(ProviderTypes.Ollama, "http://127.0.0.1:11434/api/chat", "http://127.0.0.1:11434")]
    public void An_endpoint_given_as_base_url_is_a_configuration_error_saying_what_is_expected(string type, string configured, string expected)
    {
        var options = new BatonOptions();
        options.Providers["p"] = new ProviderOptions { Type = type, BaseUrl = configured, ApiKeyEnv = "K" };
        options.Models["m"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "p", Model = "x" }] };

        var error = Assert.Single(BatonOptionsValidator.Validate(options, _ => "set"));

        Assert.StartsWith("providers.p.baseUrl: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ProviderTypes.Anthropic)]
    [InlineData(ProviderTypes.Gemini)]
    public async Task A_host_only_base_url_reaches_the_api_over_http(string type)
    {
        using var completion = await TestProviders.Create(type, simulator.BaseUrl).CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);
        Assert.True(completion.Usage.CompletionTokens > 0);
    }
}
