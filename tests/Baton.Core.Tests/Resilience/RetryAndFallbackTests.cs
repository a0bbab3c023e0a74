using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;

namespace Baton.Core.Tests.Resilience;

/// <summary>Retries, hand-overs and fallbacks of the engine, on a fake clock.</summary>
public sealed class RetryAndFallbackTests
{
    [Fact]
    public async Task A_passing_failure_is_retried_on_the_same_deployment_with_growing_delays()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Provider("a").Fail(503).Fail(503);

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        var calls = harness.Provider("a").CallTimes;
        Assert.Equal(3, calls.Count);
        Assert.Equal(3, result.Route.Attempts);
        Assert.Equal("a/m", result.Route.Deployment);
        Assert.True(calls[1] > calls[0], "the first retry waits");
        Assert.True(calls[2] - calls[1] <= TimeSpan.FromSeconds(10) + TimeSpan.FromMilliseconds(200), "no delay beyond maxDelaySeconds");
    }

    [Fact]
    public async Task Retry_after_from_the_upstream_is_honoured()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Provider("a").Fail(429, retryAfter: TimeSpan.FromSeconds(7));

        await harness.CompleteAsync(EngineHarness.Request("m"));

        var calls = harness.Provider("a").CallTimes;
        Assert.Equal(2, calls.Count);
        Assert.InRange(calls[1] - calls[0], TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task A_retry_after_beyond_the_cap_hands_over_at_once()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetryAfterSeconds = 30;
        harness.Model("m", "a", "b");
        harness.Provider("a").Fail(429, retryAfter: TimeSpan.FromSeconds(120));

        var (result, elapsed) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal("b/m", result.Route.Deployment);
        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.True(elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task When_no_one_else_can_answer_the_caller_gets_the_429_with_its_retry_after()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Provider("a").Fail(429, retryAfter: TimeSpan.FromSeconds(300));

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));

        Assert.Equal(429, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(300), error.RetryAfter);
        Assert.Contains("after 1 attempt(s)", error.Message);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task A_refused_key_is_not_retried_but_hands_over(int status)
    {
        var harness = new EngineHarness();
        harness.Model("m", "a", "b");
        harness.Provider("a").Fail(status);

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.Equal("b/m", result.Route.Deployment);
        Assert.Equal(2, result.Route.Attempts);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task An_invalid_request_is_neither_retried_nor_handed_over(int status)
    {
        var harness = new EngineHarness();
        harness.Model("m", "a", "b");
        harness.Provider("a").Fail(status);

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));

        Assert.Equal(status, error.UpstreamStatus);
        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.Equal(0, harness.Provider("b").Calls);
    }

    [Fact]
    public async Task Max_retries_is_configurable_per_model_over_provider_over_global()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 5;
        var model = harness.Model("m", "a", "b");
        harness.Options.Providers["a"].Resilience = new ResilienceOptions { MaxRetries = 3 };
        model.Resilience = new ResilienceOptions { MaxRetries = 0 };
        harness.Provider("a").Fail(503, times: 10);

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.Equal("b/m", result.Route.Deployment);
    }

    [Fact]
    public async Task Configured_fallback_models_answer_when_every_deployment_failed()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Model("primary", "a").Fallbacks = ["secondary"];
        harness.Model("secondary", "b");
        harness.Provider("a").Fail(500);

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("primary"));

        Assert.True(result.Route.FallbackUsed);
        Assert.Equal("secondary", result.Route.Model);
        Assert.Equal("primary", result.Route.RequestedModel);
        Assert.Equal(2, result.Route.Attempts);
    }

    [Fact]
    public async Task A_request_list_of_fallbacks_replaces_the_configured_one()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Model("primary", "a").Fallbacks = ["secondary"];
        harness.Model("secondary", "b");
        harness.Model("third", "c");
        harness.Provider("a").Fail(500);

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("primary", metadata: ""","metadata":{"fallbacks":"third"}"""));

        Assert.Equal("third", result.Route.Model);
        Assert.Equal(0, harness.Provider("b").Calls);
    }

    [Fact]
    public async Task A_prompt_too_long_goes_to_the_larger_context_model_only()
    {
        var harness = new EngineHarness();
        var model = harness.Model("small", "a", "b");
        model.ContextWindowFallback = "large";
        model.Fallbacks = ["other"];
        harness.Model("large", "c");
        harness.Model("other", "d");
        harness.Provider("a").Fail(400, message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.");

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("small"));

        Assert.Equal("large", result.Route.Model);
        Assert.Equal(0, harness.Provider("b").Calls);
        Assert.Equal(0, harness.Provider("d").Calls);
    }

    [Fact]
    public async Task A_prompt_too_long_without_a_larger_model_is_the_callers_error()
    {
        var harness = new EngineHarness();
        harness.Model("small", "a", "b");
        harness.Provider("a").Fail(400, message: "prompt is too long: 210000 tokens > 200000 maximum");

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("small")));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(0, harness.Provider("b").Calls);
    }

    [Fact]
    public async Task The_total_timeout_bounds_all_attempts_together()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.TotalTimeoutSeconds = 10;
        harness.Options.Resilience.AttemptTimeoutSeconds = 4;
        harness.Model("m", "a", "b");
        harness.Provider("a").Hang().Hang().Hang();
        harness.Provider("b").Hang().Hang().Hang();

        var error = await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));

        Assert.Equal(504, error.StatusCode);
        Assert.Equal("total_timeout", error.Code);
        Assert.InRange(harness.Time.GetUtcNow() - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(11));
    }

    [Fact]
    public async Task A_hanging_attempt_times_out_and_is_retried()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.AttemptTimeoutSeconds = 2;
        harness.Model("m", "a");
        harness.Provider("a").Hang();

        var (result, elapsed) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(2, result.Route.Attempts);
        Assert.True(elapsed >= TimeSpan.FromSeconds(2));
    }
}
