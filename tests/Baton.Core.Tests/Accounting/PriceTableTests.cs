using Baton.Accounting;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Accounting;

public sealed class PriceTableTests
{
    // 12:00 UTC: DeepSeek's standard hours (its off-peak prices apply from 16:30 to 00:30 UTC).
    private static readonly FakeTimeProvider Noon = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    // The catalog's published prices, where the former hand-kept table had them wrong.
    [InlineData("anthropic/claude-opus-4-5-20250514", 5, 25)]
    [InlineData("o1-pro", 150, 600)]
    [InlineData("o3-pro", 20, 80)]
    [InlineData("gpt-5-pro", 15, 120)]
    [InlineData("gemini-2.5-flash-lite", 0.1, 0.4)]
    [InlineData("deepseek/deepseek-chat", 0.27, 1.10)]
    [InlineData("gpt-4o-mini-2024-07-18", 0.15, 0.60)]
    [InlineData("gpt-4o", 2.50, 10)]
    public void Prices_models_from_the_catalog(string model, double input, double output)
    {
        var price = new PriceTable(time: Noon).For("sim/" + model, model, providerType: ProviderTypes.Simulator)!;
        Assert.Equal((decimal)input, price.Input);
        Assert.Equal((decimal)output, price.Output);
    }

    [Fact]
    public void Deployment_price_then_configured_prices_then_the_catalog()
    {
        var table = new PriceTable(new Dictionary<string, PriceOptions>
        {
            ["deepseek/deepseek-chat"] = new() { Input = 0.20m },
            ["cheap/deepseek/deepseek-chat"] = new() { Input = 0.10m, Output = 0.50m },
        }, time: Noon);
        // Configured by upstream model id: input overridden, output from the catalog, no cached discount.
        Assert.Equal(new ModelPrice(0.20m, 0.20m, 1.10m), table.For("openrouter/deepseek/deepseek-chat", "deepseek/deepseek-chat"));
        // Configured by deployment id wins over the model id.
        Assert.Equal(new ModelPrice(0.10m, 0.10m, 0.50m), table.For("cheap/deepseek/deepseek-chat", "deepseek/deepseek-chat"));
        // The deployment's own price wins over everything, key by key.
        Assert.Equal(new ModelPrice(0.20m, 0.05m, 2m),
            table.For("openrouter/deepseek/deepseek-chat", "deepseek/deepseek-chat", new PriceOptions { CachedInput = 0.05m, Output = 2m }));
    }

    [Fact]
    public void Price_keys_with_colons_are_read_from_configuration_and_a_catalog_path_beside_them()
    {
        using var db = new TempDatabase();
        var file = Path.Combine(Path.GetDirectoryName(db.Path)!, "baton.json");
        File.WriteAllText(file, """
            { "providers": { "ollama": { "type": "ollama" } },
              "models": { "llama": { "deployments": [ { "provider": "ollama", "model": "llama3:8b" } ] } },
              "prices": { "catalogPath": "prices/data.json", "ollama/llama3:8b": { "input": 0.05, "output": 0.1 }, "llama3:70b-instruct-q4_K_M": { "input": 0.5, "output": 1 } } }
            """);
        var options = BatonConfigurationLoader.Load(file, Path.GetDirectoryName(file)!).Options;

        Assert.Equal("prices/data.json", options.Prices.CatalogPath);
        Assert.Equal(0.05m, options.Prices["ollama/llama3:8b"].Input);
        Assert.Equal(1m, options.Prices["llama3:70b-instruct-q4_K_M"].Output);
        Assert.Equal(ModelPrice.Of(0.05m, 0.1m), new PriceTable(options.Prices).For("ollama/llama3:8b", "llama3:8b", providerType: ProviderTypes.Ollama));

        File.WriteAllText(file, """{ "prices": { "gpt-4o": { "input": "cheap" }, "x:y": { "outptu": 1 } } }""");
        var errors = Assert.Throws<BatonConfigurationException>(() => BatonConfigurationLoader.Load(file, Path.GetDirectoryName(file)!)).Errors;
        Assert.Contains("prices.gpt-4o.input: 'cheap' is not a number.", errors);
        Assert.Contains("prices.x:y.outptu: unknown key; expected input, cachedInput, output or cacheWrite.", errors);
    }

    [Fact]
    public void The_cheapest_strategy_uses_the_same_table()
    {
        var harness = new EngineHarness();
        var model = harness.Model("coder", "opus", "qwen");
        model.Strategy = RoutingStrategies.Cheapest;
        model.Deployments[0].Model = "anthropic/claude-opus-4-5-20250514";
        model.Deployments[1].Model = "qwen/qwen-2.5-72b-instruct";
        var route = harness.Engine.Catalog.Resolve("coder");

        Assert.Equal("qwen", DeploymentOrder.For(route, EngineHarness.Request("coder"), new Random(1))[0].Provider.Name);
        // Configured prices re-order it.
        var prices = new PriceTable(new Dictionary<string, PriceOptions> { ["qwen/qwen-2.5-72b-instruct"] = new() { Input = 100m, Output = 100m } });
        Assert.Equal("opus", DeploymentOrder.For(route, EngineHarness.Request("coder"), new Random(1), prices)[0].Provider.Name);
    }
}
