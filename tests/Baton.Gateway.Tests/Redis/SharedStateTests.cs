using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// Three gateways sharing one Redis enforce one set of limits: one rate limit, one budget, one cache, one
/// breaker per deployment, and one view of which keys are revoked.
/// </summary>
public sealed class SharedStateTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Sixty_requests_over_three_gateways_at_twenty_a_minute_reach_the_upstream_twenty_times()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options =>
            options.Models["limited"] = new ModelOptions
            {
                Deployments =
                [
                    new DeploymentOptions
                    {
                        Provider = SharedGateways.AddProvider(options, "sim-limited"), Model = "baton-sim-1",
                        RateLimits = new RateLimitOptions { RequestsPerMinute = 20, MaxQueueWaitSeconds = 0 },
                    },
                ],
            });

        var results = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            gateways.ChatAsync(i % 3, SharedGateways.Chat("limited", $"question {i}"))));

        var answered = results.Count(r => r.Status == 200);
        Assert.All(Enumerable.Range(0, 3), g => Assert.Equal(0, gateways.Redis(g).FallbackCount));
        // One refill (a request every 3 s) may land while the 60 are sent.
        Assert.InRange(gateways.CallsTo("baton-sim-1"), 20, 21);
        Assert.Equal(gateways.CallsTo("baton-sim-1"), answered);
        Assert.All(results.Where(r => r.Status != 200), r =>
        {
            Assert.Equal(429, r.Status);
            Assert.Equal("rate_limited", r.Code);
        });
    }

    [Fact]
    public async Task A_session_budget_is_one_budget_across_gateways()
    {
        const decimal Budget = 0.0004m;
        await using var gateways = await SharedGateways.StartAsync(redis, options =>
            options.Budgets.Limits["per-session"] = new BudgetLimitOptions { Scope = BudgetScopes.Session, HardUsd = Budget });

        var spent = 0m;
        var refusedBy = new HashSet<int>();
        for (var i = 0; i < 30; i++)
        {
            var gateway = i % 3;
            var (status, code, response, body) = await gateways.ChatAsync(gateway, SharedGateways.Chat("gpt-sim", $"question {i}",
                ""","max_tokens":40,"metadata":{"session_id":"shared-session","cache_disabled":true}"""));
            response.Dispose();
            if (status == 200)
            {
                var usage = body.GetProperty("usage");
                spent += (usage.GetProperty("prompt_tokens").GetInt32() * 1m + usage.GetProperty("completion_tokens").GetInt32() * 2m) / 1_000_000m;
            }
            else
            {
                Assert.Equal(429, status);
                Assert.Equal("budget_exceeded", code);
                refusedBy.Add(gateway);
            }
        }

        // Three budgets of their own would have let three times as much through.
        Assert.True(spent > 0 && spent <= Budget, $"spent {spent} of one budget of {Budget}");
        Assert.Equal(3, refusedBy.Count);
    }

    [Fact]
    public async Task An_answer_cached_by_one_gateway_is_a_hit_on_another()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options =>
        {
            options.Cache.Mode = CacheModes.On;
            options.Cache.Store = "redis";
        });
        var body = SharedGateways.Chat("gpt-sim", "what is cached once is cached for all");

        var first = await gateways.ChatAsync(0, body);
        var second = await gateways.ChatAsync(1, body);
        var third = await gateways.ChatAsync(2, body);

        Assert.Equal("miss", first.Response.Headers.GetValues("x-baton-cache").Single());
        Assert.Equal("hit", second.Response.Headers.GetValues("x-baton-cache").Single());
        Assert.Equal("hit", third.Response.Headers.GetValues("x-baton-cache").Single());
        Assert.Equal(1, gateways.CallsTo("baton-sim-1"));
        Assert.Equal(first.Body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            third.Body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        // A purge on one gateway empties the cache of all: Redis's at once, each gateway's in-process level once the
        // purge's announcement reaches it (in the background, so polled; a hit meanwhile stores nothing).
        using var purge = await gateways.Clients[2].DeleteAsync("/v1/cache");
        Assert.Equal(1, JsonDocument.Parse(await purge.Content.ReadAsStringAsync()).RootElement.GetProperty("deleted").GetInt64());
        Assert.True(await Poll.UntilAsync(async () =>
            (await gateways.ChatAsync(0, body)).Response.Headers.GetValues("x-baton-cache").Single() == "miss"), "gateway 0 still hits after the purge");
        Assert.Equal(2, gateways.CallsTo("baton-sim-1"));
    }

    [Fact]
    public async Task A_breaker_tripped_on_one_gateway_stops_the_others_calling_the_deployment()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options =>
            options.Models["flaky"] = new ModelOptions
            {
                Deployments = [new DeploymentOptions { Provider = SharedGateways.AddProvider(options, "sim-flaky"), Model = "baton-sim-1@503" }],
                Resilience = new ResilienceOptions
                {
                    MaxRetries = 0,
                    CircuitBreaker = new CircuitBreakerOptions { FailureRatio = 0.5, MinimumThroughput = 2, SamplingDurationSeconds = 30, BreakDurationSeconds = 60 },
                },
            });

        // Gateway 0 sees two failures and opens its breaker; the third request is refused without a call.
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(503, (await gateways.ChatAsync(0, SharedGateways.Chat("flaky"))).Status);
        }
        Assert.Equal("circuit_open", (await gateways.ChatAsync(0, SharedGateways.Chat("flaky"))).Code);
        var callsWhenOpened = gateways.CallsTo("baton-sim-1@503");
        Assert.Equal(2, callsWhenOpened);

        // The others learn it through Redis within a second, and never call the deployment themselves.
        Assert.True(await Poll.UntilAsync(() => gateways.Services.Skip(1).All(s =>
            s.GetRequiredService<Baton.Routing.ModelCatalog>().TryResolve("flaky", out var route) && route.Deployments[0].Resilience.IsOpen)));
        for (var g = 1; g < 3; g++)
        {
            var refused = await gateways.ChatAsync(g, SharedGateways.Chat("flaky"));
            Assert.Equal(503, refused.Status);
            Assert.Equal("circuit_open", refused.Code);
        }
        Assert.Equal(callsWhenOpened, gateways.CallsTo("baton-sim-1@503"));
        // Health says so on every gateway.
        Assert.True(gateways.Services[2].GetRequiredService<Baton.Routing.ModelCatalog>().TryResolve("flaky", out var flaky));
        Assert.Equal("open", flaky.Deployments[0].Resilience.Snapshot().BreakerState);
    }

    [Fact]
    public async Task A_key_revoked_on_one_gateway_is_refused_by_the_others_once_the_news_arrives()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options => options.Auth.MasterKeyEnv = SharedGateways.MasterKeyVariable);
        using var create = new HttpRequestMessage(HttpMethod.Post, "/admin/keys") { Content = SharedGateways.Json("""{"name":"shared"}""") };
        create.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SharedGateways.MasterKey);
        using var created = await gateways.Clients[0].SendAsync(create);
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var (id, secret) = (key.GetProperty("id").GetString()!, key.GetProperty("key").GetString()!);

        // Every gateway knows (and caches) the key.
        for (var g = 0; g < 3; g++)
        {
            Assert.Equal(200, (await gateways.ChatAsync(g, SharedGateways.Chat("gpt-sim"), secret)).Status);
        }
        using var revoke = new HttpRequestMessage(HttpMethod.Delete, $"/admin/keys/{id}");
        revoke.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SharedGateways.MasterKey);
        using var revoked = await gateways.Clients[0].SendAsync(revoke);
        Assert.True(revoked.IsSuccessStatusCode);

        // The revocation reaches the other gateways through pub/sub, in the background: the gateway that revoked
        // refuses at once, the others as soon as the message arrives (milliseconds; five seconds at most here).
        Assert.Equal(401, (await gateways.ChatAsync(0, SharedGateways.Chat("gpt-sim"), secret)).Status);
        for (var g = 1; g < 3; g++)
        {
            var status = 0;
            for (var attempt = 0; attempt < 250 && status != 401; attempt++)
            {
                status = (await gateways.ChatAsync(g, SharedGateways.Chat("gpt-sim"), secret)).Status;
                if (status != 401)
                {
                    await Task.Delay(20);
                }
            }
            Assert.Equal(401, status);
        }
    }
}
