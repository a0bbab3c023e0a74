using Baton.Accounting;
using Baton.Configuration;
using Baton.RateLimiting;
using Baton.Requests;

namespace Baton.Routing;

/// <summary>
/// Orders a model's deployments for one request by the model's strategy. The first is asked first; the
/// others stay behind it as failover, so every strategy still fails over to every deployment.
/// </summary>
public static class DeploymentOrder
{
    /// <param name="route">The model whose deployments to order.</param>
    /// <param name="request">The request, whose size the <c>cheapest</c> strategy prices.</param>
    /// <param name="random">For the <c>weighted</c> strategy.</param>
    /// <param name="prices">Where prices come from; the built-in table with each deployment's own price when null.</param>
    public static IReadOnlyList<Deployment> For(ModelRoute route, ChatRequest request, Random random, PriceTable? prices = null)
    {
        var deployments = route.Deployments;
        if (deployments.Count < 2)
        {
            return deployments;
        }
        return route.Strategy switch
        {
            RoutingStrategies.RoundRobin => Rotate(deployments, route.NextStart()),
            RoutingStrategies.Weighted => Weighted(deployments, random),
            // Stable sorts: ties keep the configured order.
            RoutingStrategies.LeastInFlight => deployments.OrderBy(d => d.RateLimiter.InFlight).ToList(),
            RoutingStrategies.LowestLatency => deployments.OrderBy(d => LatencyRank(d)).ToList(),
            RoutingStrategies.Cheapest => Cheapest(deployments, request, prices),
            _ => deployments,
        };
    }

    /// <remarks>
    /// A method of its own: its comparison captures the request, and a method holding that closure allocates it on
    /// entry, whichever strategy the route has.
    /// </remarks>
    private static List<Deployment> Cheapest(IReadOnlyList<Deployment> deployments, ChatRequest request, PriceTable? prices) =>
        deployments.OrderBy(d => EstimatedCost(d, request, prices) ?? decimal.MaxValue).ToList();

    /// <summary>Unmeasured deployments first (so each gets measured), then by moving-average latency.</summary>
    private static double LatencyRank(Deployment deployment) =>
        deployment.Resilience.Health.LatencyEwmaMs is var ewma && double.IsNaN(ewma) ? -1 : ewma;

    /// <summary>
    /// Input at the prompt's estimated size plus output at the request's limit, in dollars, priced by the
    /// price table (the same prices cost tracking uses); null when unpriced.
    /// </summary>
    public static decimal? EstimatedCost(Deployment deployment, ChatRequest request, PriceTable? prices = null)
    {
        if ((prices ?? PriceTable.BuiltIn).For(deployment) is not { } price)
        {
            return null;
        }
        return CostCalculator.Estimate(PromptTokenCounter.CountPrompt(request), request.MaxTokens ?? TokenEstimator.DefaultMaxTokens, price);
    }

    private static List<Deployment> Rotate(IReadOnlyList<Deployment> deployments, int start) =>
        [.. deployments.Skip(start), .. deployments.Take(start)];

    /// <summary>Draws deployments one by one without replacement, each in proportion to its weight.</summary>
    private static List<Deployment> Weighted(IReadOnlyList<Deployment> deployments, Random random)
    {
        var remaining = deployments.ToList();
        var ordered = new List<Deployment>(remaining.Count);
        while (remaining.Count > 0)
        {
            var total = remaining.Sum(d => d.Weight);
            var pick = random.NextDouble() * total;
            var index = 0;
            while (index < remaining.Count - 1 && pick >= remaining[index].Weight)
            {
                pick -= remaining[index].Weight;
                index++;
            }
            ordered.Add(remaining[index]);
            remaining.RemoveAt(index);
        }
        return ordered;
    }
}
