using Baton.Accounting;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Routing;

namespace Baton.Core.Tests.Accounting;

public sealed class PriceTableTests
{
    [Theory]
    [InlineData("anthropic/claude-opus-4-5-20250514", 15, 75)]
    [InlineData("deepseek/deepseek-chat", 0.27, 1.10)]
    [InlineData("deepseek/deepseek-coder", 0.14, 0.28)]
    [InlineData("qwen/qwen-2.5-72b-instruct", 0.15, 0.60)]
    [InlineData("qwen/qwen-2.5-32b-instruct", 0.06, 0.24)]
    [InlineData("gpt-4o-mini-2024-07-18", 0.15, 0.60)]
    [InlineData("gpt-4o", 2.50, 10)]
    public void Ships_seed_002s_table_and_common_models(string model, double input, double output)
    {
        var price = PriceTable.BuiltIn.For("p/" + model, model)!;
        Assert.Equal((decimal)input, price.Input);
        Assert.Equal((decimal)output, price.Output);
    }

    [Fact]
    public void Free_models_cost_nothing_and_unknown_models_are_unpriced()
    {
        Assert.Equal(ModelPrice.Free, PriceTable.BuiltIn.For("openrouter/deepseek/deepseek-r1:free", "deepseek/deepseek-r1:free"));
        Assert.Null(PriceTable.BuiltIn.For("local/my-model", "my-model"));
    }

    [Fact]
    public void Deployment_price_then_configured_prices_then_built_in()
    {
        var table = new PriceTable(new Dictionary<string, PriceOptions>
        {
            ["deepseek/deepseek-chat"] = new() { Input = 0.20m },
            ["cheap/deepseek/deepseek-chat"] = new() { Input = 0.10m, Output = 0.50m },
        });
        // Configured by upstream model id: input overridden, output from the built-in table, no cached discount.
        Assert.Equal(new ModelPrice(0.20m, 0.20m, 1.10m), table.For("openrouter/deepseek/deepseek-chat", "deepseek/deepseek-chat"));
        // Configured by deployment id wins over the model id.
        Assert.Equal(new ModelPrice(0.10m, 0.10m, 0.50m), table.For("cheap/deepseek/deepseek-chat", "deepseek/deepseek-chat"));
        // The deployment's own price wins over everything, key by key.
        Assert.Equal(new ModelPrice(0.20m, 0.05m, 2m),
            table.For("openrouter/deepseek/deepseek-chat", "deepseek/deepseek-chat", new PriceOptions { CachedInput = 0.05m, Output = 2m }));
    }

    [Fact]
    public void The_cheapest_strategy_uses_the_same_table()
    {
        var harness = new EngineHarness();
        var model = harness.Model("coder", "opus", "qwen");
        model.Strategy = RoutingStrategies.Cheapest;
        model.Deployments[0].Model = "anthropic/claude-opus-4-5-20250514";
        model.Deployments[1].Model = "qwen/qwen-2.5-32b-instruct";
        var route = harness.Engine.Catalog.Resolve("coder");

        Assert.Equal("qwen", DeploymentOrder.For(route, EngineHarness.Request("coder"), new Random(1))[0].Provider.Name);
        // Configured prices re-order it.
        var prices = new PriceTable(new Dictionary<string, PriceOptions> { ["qwen/qwen-2.5-32b-instruct"] = new() { Input = 100m, Output = 100m } });
        Assert.Equal("opus", DeploymentOrder.For(route, EngineHarness.Request("coder"), new Random(1), prices)[0].Provider.Name);
    }
}
