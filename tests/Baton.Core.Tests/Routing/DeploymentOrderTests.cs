using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Requests;
using Baton.Routing;

namespace Baton.Core.Tests.Routing;

/// <summary>The strategies that choose among a model's deployments.</summary>
public sealed class DeploymentOrderTests
{
    private static (ModelRoute Route, EngineHarness Harness) Route(string strategy, Action<ModelOptions>? configure = null)
    {
        var harness = new EngineHarness();
        var model = harness.Model("m", "a", "b", "c");
        model.Strategy = strategy;
        configure?.Invoke(model);
        return (harness.Engine.Catalog.Resolve("m"), harness);
    }

    private static ChatRequest Request => EngineHarness.Request("m");

    private static string First(ModelRoute route, Random? random = null) =>
        DeploymentOrder.For(route, Request, random ?? new Random(1))[0].Provider.Name;

    [Fact]
    public void Ordered_keeps_the_configured_order()
    {
        var (route, _) = Route(RoutingStrategies.Ordered);
        Assert.Equal(["a", "b", "c"], DeploymentOrder.For(route, Request, new Random(1)).Select(d => d.Provider.Name));
    }

    [Fact]
    public void Round_robin_starts_each_request_at_the_next_deployment_and_keeps_the_rest_as_failover()
    {
        var (route, _) = Route(RoutingStrategies.RoundRobin);

        var orders = Enumerable.Range(0, 3).Select(_ => DeploymentOrder.For(route, Request, new Random(1)).Select(d => d.Provider.Name).ToList()).ToList();

        Assert.Equal(["b", "c", "a"], orders[0]);
        Assert.Equal(["c", "a", "b"], orders[1]);
        Assert.Equal(["a", "b", "c"], orders[2]);
    }

    [Fact]
    public void Weighted_picks_in_proportion_to_the_weights()
    {
        var (route, _) = Route(RoutingStrategies.Weighted, model =>
        {
            model.Deployments[0].Weight = 6;
            model.Deployments[1].Weight = 3;
            model.Deployments[2].Weight = 1;
        });
        var random = new Random(42);

        var counts = Enumerable.Range(0, 10_000).Select(_ => First(route, random)).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());

        Assert.InRange(counts["a"], 5700, 6300);
        Assert.InRange(counts["b"], 2700, 3300);
        Assert.InRange(counts["c"], 800, 1200);
        Assert.Equal(3, DeploymentOrder.For(route, Request, random).Count);
    }

    [Fact]
    public void Least_in_flight_prefers_the_least_busy_deployment()
    {
        var (route, _) = Route(RoutingStrategies.LeastInFlight);
        var leases = new[] { route.Deployments[0], route.Deployments[0], route.Deployments[1] }
            .Select(d => d.RateLimiter.TryAcquire(10, out var lease, out _) ? lease : throw new InvalidOperationException())
            .ToList();

        Assert.Equal(["c", "b", "a"], DeploymentOrder.For(route, Request, new Random(1)).Select(d => d.Provider.Name));
        leases.ForEach(l => l.Dispose());
        Assert.Equal(["a", "b", "c"], DeploymentOrder.For(route, Request, new Random(1)).Select(d => d.Provider.Name));
    }

    [Fact]
    public void Lowest_latency_tries_unmeasured_deployments_then_the_fastest()
    {
        var (route, _) = Route(RoutingStrategies.LowestLatency);
        route.Deployments[0].Resilience.Health.RecordSuccess(TimeSpan.FromMilliseconds(900));
        route.Deployments[1].Resilience.Health.RecordSuccess(TimeSpan.FromMilliseconds(200));

        Assert.Equal("c", First(route));

        route.Deployments[2].Resilience.Health.RecordSuccess(TimeSpan.FromMilliseconds(500));
        Assert.Equal(["b", "c", "a"], DeploymentOrder.For(route, Request, new Random(1)).Select(d => d.Provider.Name));
    }

    [Fact]
    public void Cheapest_orders_by_estimated_cost_with_unpriced_deployments_last()
    {
        var (route, _) = Route(RoutingStrategies.Cheapest, model =>
        {
            model.Deployments[0].Price = new PriceOptions { Input = 15m, Output = 75m };
            model.Deployments[2].Price = new PriceOptions { Input = 0.27m, Output = 1.10m };
        });

        Assert.Equal(["c", "a", "b"], DeploymentOrder.For(route, Request, new Random(1)).Select(d => d.Provider.Name));
    }
}
