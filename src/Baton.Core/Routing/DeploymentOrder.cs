using Baton.Configuration;
using Baton.Requests;

namespace Baton.Routing;

/// <summary>
/// Orders a model's deployments for one request by the model's strategy. The first is asked first; the
/// others stay behind it as failover, so every strategy still fails over to every deployment.
/// </summary>
public static class DeploymentOrder
{
    /// <summary>Tokens assumed for the answer when the request sets no limit, to compare prices.</summary>
    private const int AssumedCompletionTokens = 1024;

    public static IReadOnlyList<Deployment> For(ModelRoute route, ChatRequest request, Random random)
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
            RoutingStrategies.Cheapest => deployments.OrderBy(d => EstimatedCost(d, request) ?? decimal.MaxValue).ToList(),
            _ => deployments,
        };
    }

    /// <summary>Unmeasured deployments first (so each gets measured), then by moving-average latency.</summary>
    private static double LatencyRank(Deployment deployment) =>
        deployment.Resilience.Health.LatencyEwmaMs is var ewma && double.IsNaN(ewma) ? -1 : ewma;

    /// <summary>Input at the prompt's estimated size plus output at the request's limit, in dollars; null when unpriced.</summary>
    public static decimal? EstimatedCost(Deployment deployment, ChatRequest request)
    {
        if (deployment.Price is not { Input: { } input, Output: { } output })
        {
            return null;
        }
        var promptTokens = request.PromptCharacters / 4m;
        var completionTokens = request.MaxTokens ?? AssumedCompletionTokens;
        return ((promptTokens * input) + (completionTokens * output)) / 1_000_000m;
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
