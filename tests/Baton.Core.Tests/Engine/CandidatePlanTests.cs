using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Engine;
using Baton.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Engine;

/// <summary>The order in which a request's candidates are tried, and the plan's changes of that order.</summary>
public sealed class CandidatePlanTests
{
    private static (ModelCatalog Catalog, TaskRoutingTable Tasks) Catalog()
    {
        var options = new BatonOptions();
        foreach (var provider in (string[])["a", "b", "c", "d"])
        {
            options.Providers[provider] = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = $"http://{provider}.test/v1" };
        }
        options.Models["main"] = new ModelOptions
        {
            Deployments = [new DeploymentOptions { Provider = "a", Model = "m" }, new DeploymentOptions { Provider = "b", Model = "m" }],
            Fallbacks = ["backup"],
            ContextWindowFallback = "large",
        };
        options.Models["backup"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "c", Model = "m" }] };
        options.Models["large"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "d", Model = "m" }] };
        options.Models["single"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "a", Model = "m" }] };
        var time = new FakeTimeProvider();
        return (new ModelCatalog(options, (name, _) => new ScriptedProvider(name, time), time), TaskRoutingTable.Build(options));
    }

    private static CandidatePlan Plan(string model)
    {
        var (catalog, tasks) = Catalog();
        return new CandidatePlan(catalog, EngineHarness.Request(model), tasks, new Random(1));
    }

    private static List<string> Remaining(CandidatePlan plan)
    {
        var ids = new List<string>();
        while (plan.TryNext(out var candidate))
        {
            ids.Add(candidate.Deployment.Provider.Name + (candidate.IsFallback ? " (fallback)" : ""));
        }
        return ids;
    }

    [Fact]
    public void A_model_with_one_deployment_is_one_candidate()
    {
        var plan = Plan("single");

        Assert.Equal("a", plan.FirstUpcomingDeployment?.Provider.Name);
        Assert.Equal(["a"], plan.UpcomingDeployments().Select(d => d.Provider.Name));
        Assert.Equal(["a"], Remaining(plan));
        Assert.True(plan.IsExhausted);
        Assert.Null(plan.FirstUpcomingDeployment);
    }

    [Fact]
    public void The_deployments_come_in_order_then_the_fallbacks_and_a_restart_begins_again()
    {
        var plan = Plan("main");

        Assert.Equal(["a", "b", "c"], plan.Upcoming.Select(c => c.Deployment.Provider.Name));
        Assert.Equal(["a", "b", "c (fallback)"], Remaining(plan));
        plan.Restart();
        Assert.Equal(["a", "b", "c (fallback)"], Remaining(plan));
    }

    [Fact]
    public void A_candidate_taken_instead_of_the_current_one_moves_before_it()
    {
        var plan = Plan("main");
        Assert.True(plan.TryNext(out var current));

        // The one just taken (a) becomes the next; c goes in its place.
        plan.TakeInstead(plan.Upcoming.Last());

        Assert.Equal(["a", "b"], Remaining(plan));
        plan.Restart();
        Assert.Equal(["c (fallback)", "a", "b"], Remaining(plan));
        Assert.Throws<InvalidOperationException>(() => plan.TakeInstead(current));
    }

    [Fact]
    public void A_switch_to_the_larger_context_model_replaces_what_was_still_to_come()
    {
        var plan = Plan("main");
        Assert.True(plan.TryNext(out var first));

        Assert.True(plan.SwitchToLargerContext(first.Route));

        Assert.Equal(["d (fallback)"], Remaining(plan));
        plan.Restart();
        Assert.Equal(["a", "d (fallback)"], Remaining(plan));
        Assert.False(plan.SwitchToLargerContext(Plan("single").Upcoming.First().Route));
    }
}
