using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Routing;
using Microsoft.Extensions.Configuration;

namespace Baton.Core.Tests.Routing;

/// <summary>Task → tier → models, from the built-in map and configuration, reloaded without restart.</summary>
public sealed class TaskRoutingTests
{
    private static BatonOptions Tiered()
    {
        var options = new BatonOptions();
        foreach (var model in new[] { "opus", "deepseek-v3", "coder", "qwen-72b", "qwen-32b" })
        {
            options.Models[model] = new ModelOptions();
        }
        options.Tiers["orchestrator"] = new TierOptions { Models = ["opus"] };
        options.Tiers["reasoning"] = new TierOptions { Models = ["deepseek-v3"] };
        options.Tiers["coding"] = new TierOptions { Models = ["coder"] };
        options.Tiers["general"] = new TierOptions { Models = ["qwen-72b"] };
        options.Tiers["fast"] = new TierOptions { Models = ["qwen-32b"] };
        return options;
    }

    [Theory]
    [InlineData("plan_crawl_strategy", "orchestrator", "opus,deepseek-v3,qwen-72b,qwen-32b")]
    [InlineData("propose_fix", "coding", "coder,qwen-72b,qwen-32b")]
    [InlineData("format_ticket", "fast", "qwen-32b")]
    [InlineData("CODE_GENERATION", "coding", "coder,qwen-72b,qwen-32b")]
    [InlineData("documentation", "general", "qwen-72b,qwen-32b")]
    [InlineData("analysis", "reasoning", "deepseek-v3,qwen-72b,qwen-32b")]
    public void Built_in_tasks_go_to_their_tier_then_down_the_fallback_tiers(string task, string tier, string models)
    {
        var route = TaskRoutingTable.Build(Tiered()).Resolve(task);

        Assert.Equal(tier, route.Tier);
        Assert.Equal(models.Split(','), route.Models);
    }

    [Fact]
    public void Configuration_adds_tasks_overrides_built_in_ones_and_changes_fallback_tiers()
    {
        var options = Tiered();
        options.Tasks["triage_email"] = "fast";
        options.Tasks["propose_fix"] = "orchestrator";
        options.Tiers["orchestrator"].FallbackTier = "coding";
        var table = TaskRoutingTable.Build(options);

        Assert.Equal(["qwen-32b"], table.Resolve("triage_email").Models);
        Assert.Equal(["opus", "coder", "qwen-72b", "qwen-32b"], table.Resolve("propose_fix").Models);
        Assert.Empty(table.Validate(options.Models.Keys));
    }

    [Fact]
    public void An_unknown_task_is_a_400_naming_it()
    {
        var error = Assert.Throws<BatonException>(() => TaskRoutingTable.Build(Tiered()).Resolve("make_coffee"));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("unknown_task", error.Code);
        Assert.Equal("metadata.task", error.Param);
        Assert.Contains("make_coffee", error.Message);
    }

    [Fact]
    public void A_task_whose_tiers_have_no_models_is_a_400_naming_the_tier_key()
    {
        var error = Assert.Throws<BatonException>(() => TaskRoutingTable.Build(new BatonOptions()).Resolve("format_ticket"));

        Assert.Equal("task_not_routable", error.Code);
        Assert.Contains("tiers.fast.models", error.Message);
    }

    [Fact]
    public void A_task_without_tier_models_says_every_way_to_route_it()
    {
        var error = Assert.Throws<BatonException>(() => TaskRoutingTable.Build(new BatonOptions()).Resolve("propose_fix"));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("tiers.coding.models", error.Message);
        Assert.Contains("routing.defaultModel", error.Message);
        Assert.Contains("metadata.fallbacks", error.Message);
    }

    [Fact]
    public void A_task_without_tier_models_goes_to_the_requests_fallbacks_then_the_default_model()
    {
        var options = new BatonOptions();
        options.Models["plain"] = new ModelOptions();
        options.Models["spare"] = new ModelOptions();

        Assert.Equal(["spare", "plain"], TaskRoutingTable.Build(options).Resolve("propose_fix", ["spare", "plain"]).Models);

        options.Routing.DefaultModel = "plain";
        var table = TaskRoutingTable.Build(options);
        Assert.Equal(["plain"], table.Resolve("propose_fix").Models);
        Assert.Equal("coding", table.Resolve("propose_fix").Tier);
        Assert.Equal(["spare"], table.Resolve("propose_fix", ["spare"]).Models);
        Assert.Empty(table.Validate(options.Models.Keys));
    }

    [Fact]
    public void A_default_model_that_is_not_configured_is_a_configuration_error()
    {
        var options = new BatonOptions();
        options.Models["plain"] = new ModelOptions();
        options.Routing.DefaultModel = "missing";

        Assert.Equal(["routing.defaultModel: 'missing' is not a configured model."], TaskRoutingTable.Build(options).Validate(options.Models.Keys));
    }

    [Fact]
    public async Task Auto_with_a_task_and_no_tiers_is_answered_by_the_default_model_and_without_a_task_too()
    {
        var harness = new EngineHarness();
        harness.Model("plain", "a");
        harness.Model("spare", "b");
        harness.Options.Routing.DefaultModel = "plain";

        var (routed, _) = await harness.CompleteAsync(EngineHarness.Request("auto", metadata: ""","metadata":{"task":"propose_fix"}"""));
        var (withFallbacks, _) = await harness.CompleteAsync(EngineHarness.Request("auto", metadata: ""","metadata":{"task":"propose_fix","fallbacks":"spare"}"""));
        var (untasked, _) = await harness.CompleteAsync(EngineHarness.Request("auto"));

        Assert.Equal("a/m", routed.Route.Deployment);
        Assert.Equal("b/m", withFallbacks.Route.Deployment);
        Assert.Equal("a/m", untasked.Route.Deployment);
    }

    [Fact]
    public void Validation_names_each_bad_key()
    {
        var options = Tiered();
        options.Tasks["orphan"] = "premium";
        options.Tiers["fast"].Models.Add("missing-model");
        options.Tiers["general"].FallbackTier = "nowhere";

        var errors = TaskRoutingTable.Build(options).Validate(options.Models.Keys);

        Assert.Contains(errors, e => e.StartsWith("tasks.orphan:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("tiers.fast.models[1]:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("tiers.general.fallbackTier:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_engine_routes_auto_by_task_and_an_explicit_model_wins()
    {
        var harness = new EngineHarness();
        harness.Model("coder", "a");
        harness.Model("general", "b");
        harness.Options.Tiers["coding"] = new TierOptions { Models = ["coder"] };
        harness.Options.Tiers["general"] = new TierOptions { Models = ["general"] };

        var (routed, _) = await harness.CompleteAsync(EngineHarness.Request("auto", metadata: ""","metadata":{"task":"review_code"}"""));
        Assert.Equal("coder", routed.Route.Model);
        Assert.Equal("coding", routed.Route.Tier);
        Assert.Equal("review_code", routed.Route.Task);
        Assert.Equal("auto", routed.Route.RequestedModel);

        var (explicitModel, _) = await harness.CompleteAsync(EngineHarness.Request("general", metadata: ""","metadata":{"task":"review_code"}"""));
        Assert.Equal("general", explicitModel.Route.Model);
        Assert.Null(explicitModel.Route.Tier);
    }

    [Fact]
    public async Task A_failing_tier_falls_back_to_the_next_tier()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Model("coder", "a");
        harness.Model("general", "b");
        harness.Options.Tiers["coding"] = new TierOptions { Models = ["coder"] };
        harness.Options.Tiers["general"] = new TierOptions { Models = ["general"] };
        harness.Provider("a").Fail(503);

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("auto", metadata: ""","metadata":{"task":"propose_fix"}"""));

        Assert.Equal("general", result.Route.Model);
        Assert.True(result.Route.FallbackUsed);
        Assert.Equal("coding", result.Route.Tier);
    }

    [Fact]
    public async Task Auto_without_a_task_says_how_to_name_one()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("auto")));

        Assert.Equal("task_required", error.Code);
        Assert.Contains("X-Baton-Task", error.Message);
    }

    [Fact]
    public void Editing_the_configuration_file_reloads_the_table_and_a_broken_edit_is_refused()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("baton-reload-").FullName, "baton.json");
        File.WriteAllText(file, """{ "tiers": { "fast": { "models": ["qwen-32b"] } } }""");
        var configuration = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: false).Build();
        var options = Tiered();
        using var router = new TaskRouter(options, configuration);
        Assert.Equal(["qwen-32b"], router.Table.Resolve("format_ticket").Models);

        File.WriteAllText(file, """{ "tasks": { "triage_email": "fast" }, "tiers": { "fast": { "models": ["qwen-72b", "qwen-32b"] } } }""");
        configuration.Reload();
        Assert.Equal(["qwen-72b", "qwen-32b"], router.Table.Resolve("triage_email").Models);

        File.WriteAllText(file, """{ "tiers": { "fast": { "models": ["no-such-model"] } } }""");
        configuration.Reload();
        Assert.Equal(["qwen-72b", "qwen-32b"], router.Table.Resolve("format_ticket").Models);
        File.Delete(file);
    }
}
