using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Routing;

namespace Baton.Core.Tests.RateLimiting;

/// <summary>The engine under rate limits, on a fake clock: callers are smoothed, not refused.</summary>
public sealed class RateLimitEngineTests
{
    [Fact]
    public async Task Past_the_requests_per_minute_a_call_waits_for_the_bucket_and_then_succeeds()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Limits("a", requestsPerMinute: 2);

        var (_, first) = await harness.CompleteAsync(EngineHarness.Request("m"));
        var (_, second) = await harness.CompleteAsync(EngineHarness.Request("m"));
        var (third, waited) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(TimeSpan.Zero, first);
        Assert.Equal(TimeSpan.Zero, second);
        Assert.InRange(waited, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(31));
        Assert.Equal(3, harness.Provider("a").Calls);
        Assert.Equal(0, third.Route.RateLimit?.RemainingRequests);
    }

    [Fact]
    public async Task Thirty_requests_at_ten_a_minute_all_succeed_spaced_and_none_is_refused()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Limits("a", requestsPerMinute: 10, maxQueueWaitSeconds: 180);
        harness.Options.Resilience.TotalTimeoutSeconds = 300;

        // The clock moves only while no request's code runs and some wait in the queue: a request that has had its
        // answer but is still finishing holds the clock (before, counting provider calls let it run to the timeouts).
        var (results, elapsed) = await harness.RunAsync(
            () => Task.WhenAll(Enumerable.Range(0, 30).Select(_ => harness.Engine.CompleteAsync(EngineHarness.Request("m"), CancellationToken.None))),
            TimeSpan.FromMilliseconds(500));

        Assert.Equal(30, results.Length);
        var calls = harness.Provider("a").CallTimes.Order().ToList();
        Assert.Equal(30, calls.Count);
        // The bucket's first ten go at once; after that one request every six seconds, never faster.
        for (var i = 10; i < calls.Count; i++)
        {
            Assert.True(calls[i] - calls[i - 1] >= TimeSpan.FromSeconds(5.9), $"request {i} came {(calls[i] - calls[i - 1]).TotalSeconds} s after the one before");
        }
        Assert.InRange(elapsed, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(127));
        foreach (var result in results)
        {
            result.Dispose();
        }
    }

    [Fact]
    public async Task Another_deployment_of_the_same_model_takes_the_overflow_instead_of_waiting()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a", "b");
        harness.Limits("a", requestsPerMinute: 1);
        harness.Limits("b", requestsPerMinute: 1);

        var (first, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        var (second, elapsed) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal("a/m", first.Route.Deployment);
        Assert.Equal("b/m", second.Route.Deployment);
        Assert.False(second.Route.FallbackUsed);
        Assert.Equal(TimeSpan.Zero, elapsed);
        Assert.Equal(1, harness.Provider("a").Calls);
    }

    [Fact]
    public async Task When_every_deployment_is_full_the_one_that_frees_first_answers()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a", "b");
        harness.Limits("a", requestsPerMinute: 1);
        harness.Limits("b", requestsPerMinute: 3);
        for (var i = 0; i < 4; i++)
        {
            await harness.CompleteAsync(EngineHarness.Request("m"));
        }

        var (result, waited) = await harness.CompleteAsync(EngineHarness.Request("m"));

        // b has a token again after 20 s, a only after 60 s.
        Assert.Equal("b/m", result.Route.Deployment);
        Assert.InRange(waited, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(21));
    }

    [Fact]
    public async Task Past_the_maximum_queue_wait_the_caller_gets_a_429_with_retry_after_at_once()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Limits("a", requestsPerMinute: 1, maxQueueWaitSeconds: 5);
        await harness.CompleteAsync(EngineHarness.Request("m"));

        var started = harness.Time.GetUtcNow();
        var error = await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));

        Assert.Equal(429, error.StatusCode);
        Assert.Equal(ErrorTypes.RateLimit, error.Type);
        Assert.Equal("rate_limited", error.Code);
        Assert.Equal(TimeSpan.FromSeconds(60), error.RetryAfter);
        Assert.Equal(started, harness.Time.GetUtcNow());
        Assert.Equal(1, harness.Provider("a").Calls);
    }

    [Fact]
    public async Task A_full_model_hands_over_to_its_fallback_rather_than_refusing()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a").Fallbacks = ["spare"];
        harness.Model("spare", "s");
        harness.Limits("a", requestsPerMinute: 1, maxQueueWaitSeconds: 5);
        await harness.CompleteAsync(EngineHarness.Request("m"));

        var (result, elapsed) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal("s/m", result.Route.Deployment);
        Assert.True(result.Route.FallbackUsed);
        Assert.Equal(TimeSpan.Zero, elapsed);
    }

    [Fact]
    public async Task A_concurrency_limit_of_one_serialises_two_concurrent_calls()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Limits("a", maxConcurrency: 1);
        harness.Provider("a").Answer(after: TimeSpan.FromSeconds(10), times: 2);

        // Parked when both callers wait: one on the provider's ten seconds, the other in the queue for the slot.
        var (results, elapsed) = await harness.RunAsync(() => Task.WhenAll(
            harness.Engine.CompleteAsync(EngineHarness.Request("m"), CancellationToken.None),
            harness.Engine.CompleteAsync(EngineHarness.Request("m"), CancellationToken.None)),
            parked: () => harness.Provider("a").Calls == 2 ? harness.Time.ParkedDelays >= 1 : harness.Time.ParkedDelays >= 2);

        var calls = harness.Provider("a").CallTimes;
        Assert.Equal(2, calls.Count);
        Assert.InRange(calls[1] - calls[0], TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(11));
        Assert.InRange(elapsed, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(22));
        Assert.All(results, r => Assert.Equal("a/m", r.Route.Deployment));
        Assert.Equal(0, harness.Engine.Catalog.Deployments[0].RateLimiter.InFlight);
    }

    [Fact]
    public async Task A_stream_holds_its_concurrency_slot_until_it_ends()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Limits("a", maxConcurrency: 1);
        var limiter = harness.Engine.Catalog.Deployments[0].RateLimiter;

        var (stream, _) = await harness.RunAsync(() => harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None));
        Assert.Equal(1, limiter.InFlight);
        await foreach (var _ in stream.ReadAsync(CancellationToken.None))
        {
        }
        Assert.Equal(1, limiter.InFlight);
        await stream.DisposeAsync();

        Assert.Equal(0, limiter.InFlight);
    }

    [Fact]
    public async Task The_token_charge_is_corrected_by_the_reported_usage()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Limits("a", tokensPerMinute: 3000);
        harness.Provider("a").Answer(usage: TokenUsage.Of(40, 60), times: 3);

        // Each request is estimated at 2 (prompt) + 1024 (default max_tokens) tokens but uses 100.
        for (var i = 0; i < 3; i++)
        {
            var (result, elapsed) = await harness.CompleteAsync(EngineHarness.Request("m"));
            Assert.Equal(TimeSpan.Zero, elapsed);
            Assert.Equal(3000 - 100 * (i + 1), result.Route.RateLimit?.RemainingTokens);
        }
    }

    [Fact]
    public async Task An_upstream_saying_nothing_is_left_pauses_the_deployment_until_its_reset()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Provider("a").Answer(rateLimit: new UpstreamRateLimit(0, 5000, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1)));

        await harness.CompleteAsync(EngineHarness.Request("m"));
        var (_, waited) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.InRange(waited, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(21));
        var calls = harness.Provider("a").CallTimes;
        Assert.InRange(calls[1] - calls[0], TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(21));
    }

    [Fact]
    public async Task An_upstream_429_pauses_the_deployment_for_other_callers()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Model("m", "a", "b");
        harness.Provider("a").Fail(429, retryAfter: TimeSpan.FromSeconds(40));

        var (first, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        var (second, elapsed) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal("b/m", first.Route.Deployment);
        // a is paused for 40 s: the next call goes straight to b instead of hammering a.
        Assert.Equal("b/m", second.Route.Deployment);
        Assert.Equal(TimeSpan.Zero, elapsed);
        Assert.Equal(1, harness.Provider("a").Calls);

        harness.Time.Advance(TimeSpan.FromSeconds(40));
        var (third, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal("a/m", third.Route.Deployment);
    }

    [Fact]
    public async Task A_429_with_a_reset_header_but_no_retry_after_pauses_until_the_reset()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Model("m", "a");
        harness.Provider("a").Fail(429, rateLimit: new UpstreamRateLimit(null, null, TimeSpan.FromSeconds(8), null));

        await Assert.ThrowsAsync<BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));
        var (_, waited) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.InRange(waited, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(9));
    }

    [Fact]
    public async Task Retries_count_against_the_requests_per_minute()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Limits("a", requestsPerMinute: 3);
        harness.Provider("a").Fail(503);

        var (result, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(2, result.Route.Attempts);
        Assert.Equal(1, result.Route.RateLimit?.RemainingRequests);
    }

    [Fact]
    public void OpenRouter_free_models_default_to_ten_requests_a_minute()
    {
        var openRouter = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = "https://openrouter.ai/api/v1" };
        var other = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = "https://api.openai.com/v1" };

        Assert.Equal(10, RateLimitSettings.Resolve(new DeploymentOptions { Model = "deepseek/deepseek-r1:free" }, openRouter).RequestsPerMinute);
        Assert.Null(RateLimitSettings.Resolve(new DeploymentOptions { Model = "deepseek/deepseek-r1" }, openRouter).RequestsPerMinute);
        Assert.Null(RateLimitSettings.Resolve(new DeploymentOptions { Model = "x:free" }, other).RequestsPerMinute);
        Assert.Equal(TimeSpan.FromSeconds(30), RateLimitSettings.Resolve(new DeploymentOptions { Model = "x:free" }, openRouter).MaxQueueWait);
    }

    [Fact]
    public void A_deployment_s_own_limits_win_over_its_provider_s_key_by_key()
    {
        var provider = new ProviderOptions
        {
            Type = ProviderTypes.OpenAi,
            BaseUrl = "https://openrouter.ai/api/v1",
            RateLimits = new RateLimitOptions { RequestsPerMinute = 20, TokensPerMinute = 50_000, MaxQueueWaitSeconds = 10 },
        };
        var deployment = new DeploymentOptions { Model = "x:free", RateLimits = new RateLimitOptions { RequestsPerMinute = 4, MaxConcurrency = 2 } };

        var settings = RateLimitSettings.Resolve(deployment, provider);

        Assert.Equal(new RateLimitSettings(4, 50_000, 2, TimeSpan.FromSeconds(10)), settings);
    }

    [Fact]
    public void The_catalog_gives_a_deployment_named_by_several_models_one_limiter()
    {
        var options = new BatonOptions();
        options.Providers["or"] = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = "https://openrouter.ai/api/v1", ApiKeyEnv = "K" };
        options.Models["one"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "or", Model = "m:free" }] };
        options.Models["two"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "or", Model = "m:free" }] };
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();

        var catalog = new ModelCatalog(options, (name, _) => new ScriptedProvider(name, time), time);

        var one = catalog.Resolve("one").Deployments[0];
        Assert.Same(one.RateLimiter, catalog.Resolve("two").Deployments[0].RateLimiter);
        Assert.Equal(10, one.RateLimiter.Settings.RequestsPerMinute);
    }
}
