using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Cli;

/// <summary><c>baton prices show</c>, over the shipped catalog and a configuration.</summary>
public sealed class PricesCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-cli-prices-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<(int Exit, string Out, string Error)> RunAsync(params string[] args) => CliRun.RunAsync(_directory, "", args);

    [Fact]
    public async Task Shows_the_catalog_match_and_its_prices()
    {
        var (exit, output, error) = await RunAsync("prices", "show", "claude-opus-4-5-20251101");

        Assert.True(exit == 0, error);
        Assert.Contains("Price catalog: built-in", output);
        Assert.Contains("Catalog match: Anthropic (anthropic) / ", output);
        Assert.Contains("(claude-opus-4-5)", output);
        Assert.Contains("Input:        $5.00 per million tokens", output);
        Assert.Contains("Cache write:  $6.25 per million tokens", output);
        Assert.Contains("Output:       $25.00 per million tokens", output);

        (exit, output, _) = await RunAsync("prices", "show", "claude-sonnet-4-5");
        Assert.Equal(0, exit);
        Assert.Contains("Prompts over 200,000 tokens (the whole request):", output);
        Assert.Contains("Input:        $6.00 per million tokens", output);
    }

    [Fact]
    public async Task Shows_each_deployment_of_a_configured_model_with_configured_prices_whose_keys_have_colons()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "baton.json"), """
            { "providers": { "ollama": { "type": "ollama" }, "openrouter": { "type": "openai", "baseUrl": "https://openrouter.ai/api/v1" } },
              "models": { "llama": { "deployments": [ { "provider": "ollama", "model": "llama3:8b" }, { "provider": "openrouter", "model": "meta-llama/llama-3-8b-instruct" } ] } },
              "prices": { "ollama/llama3:8b": { "input": 0, "output": 0 } } }
            """);
        var (exit, output, error) = await RunAsync("prices", "show", "llama");

        Assert.True(exit == 0, error);
        Assert.Contains("ollama/llama3:8b", output);
        Assert.Contains("Price source: configuration (prices.ollama/llama3:8b)", output);
        Assert.Contains("openrouter/meta-llama/llama-3-8b-instruct", output);
        Assert.Contains("Catalog match: OpenRouter (openrouter) / ", output);
    }

    [Fact]
    public async Task An_unknown_model_is_reported_as_unpriced()
    {
        var (exit, output, _) = await RunAsync("prices", "show", "my-own-model");

        Assert.Equal(1, exit);
        Assert.Contains("Catalog match: none", output);
        Assert.Contains("Not priced", output);
    }
}
