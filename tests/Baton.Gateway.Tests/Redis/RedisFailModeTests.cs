using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// Redis stopped mid-run: in fail mode <c>local</c> the gateways keep serving on their own state and share again
/// once Redis is back; in fail mode <c>closed</c> they refuse with a 503 in OpenAI's error shape. Never a 500.
/// </summary>
public sealed class RedisFailModeTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static void Limited(BatonOptions options, int perMinute) =>
        options.Models["limited"] = new ModelOptions
        {
            Deployments =
            [
                new DeploymentOptions
                {
                    Provider = SharedGateways.AddProvider(options, "sim-limited"), Model = "baton-sim-1",
                    RateLimits = new RateLimitOptions { RequestsPerMinute = perMinute, MaxQueueWaitSeconds = 0 },
                },
            ],
        };

    [Fact]
    public async Task Local_keeps_serving_while_redis_is_down_and_shares_again_when_it_is_back()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options => Limited(options, 6));
        try
        {
            await redis.StopAsync();

            // Each gateway falls back to buckets of its own: each lets its own 6 through, none answers 500.
            var down = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => gateways.ChatAsync(i % 3, SharedGateways.Chat("limited", $"down {i}"))));
            Assert.All(down, r => Assert.Contains(r.Status, new[] { 200, 429 }));
            Assert.InRange(down.Count(r => r.Status == 200), 18, 20);
            Assert.All(Enumerable.Range(0, 3), g => Assert.True(gateways.Redis(g).FallbackCount > 0));
        }
        finally
        {
            await redis.StartAsync();
        }
        Assert.True(await UntilConnectedAsync(gateways), "the gateways reconnected to Redis");
        var before = gateways.CallsTo("baton-sim-1");

        // Shared again: the restarted Redis holds one fresh bucket of 6 for all three.
        var up = await Task.WhenAll(Enumerable.Range(0, 18).Select(i => gateways.ChatAsync(i % 3, SharedGateways.Chat("limited", $"up {i}"))));

        Assert.InRange(up.Count(r => r.Status == 200), 6, 7);
        Assert.Equal(up.Count(r => r.Status == 200), gateways.CallsTo("baton-sim-1") - before);
        Assert.All(Enumerable.Range(0, 3), g => Assert.False(gateways.Redis(g).IsDown));
    }

    [Fact]
    public async Task A_gateway_started_while_redis_is_down_starts_and_serves_and_shares_once_redis_is_back()
    {
        await redis.StopAsync();
        var restarted = false;
        try
        {
            // Its subscriptions (breakers, cache purges, key changes) cannot be made yet: start-up must not wait or fail.
            await using var gateways = await SharedGateways.StartAsync(redis, count: 1);
            Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("gpt-sim", "while down"))).Status);
            await redis.StartAsync();
            restarted = true;
            Assert.True(await UntilConnectedAsync(gateways), "the gateway connected to Redis");
            Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("gpt-sim", "back"))).Status);
        }
        finally
        {
            if (!restarted)
            {
                await redis.StartAsync();
            }
        }
    }

    [Fact]
    public async Task Closed_refuses_with_a_503_in_openais_error_shape_while_redis_is_down()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options => options.Redis.FailMode = RedisFailModes.Closed, count: 1);
        Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("gpt-sim"))).Status);
        var callsBefore = gateways.CallsTo("baton-sim-1");
        try
        {
            await redis.StopAsync();

            var (status, code, response, body) = await gateways.ChatAsync(0, SharedGateways.Chat("gpt-sim", "while down"));

            Assert.Equal(503, status);
            Assert.Equal("shared_state_unavailable", code);
            var error = body.GetProperty("error");
            Assert.Contains("redis.failMode", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
            Assert.True(error.TryGetProperty("param", out _));
            Assert.NotNull(response.Headers.RetryAfter);
            // Refused before any upstream call.
            Assert.Equal(callsBefore, gateways.CallsTo("baton-sim-1"));
        }
        finally
        {
            await redis.StartAsync();
        }
        Assert.True(await UntilConnectedAsync(gateways), "the gateway reconnected to Redis");
        Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("gpt-sim", "back"))).Status);
    }

    [Fact]
    public async Task Closed_refuses_the_one_admission_script_of_a_key_with_limits_and_a_budget_while_redis_is_down()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options =>
        {
            options.Redis.FailMode = RedisFailModes.Closed;
            options.Auth.MasterKeyEnv = SharedGateways.MasterKeyVariable;
            Limited(options, 100);
        }, count: 1);
        var (_, secret) = await gateways.CreateKeyAsync("""{"name":"closed","rpm":50,"max_parallel":2,"budget_usd":5}""");
        Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("limited"), secret)).Status);
        var callsBefore = gateways.CallsTo("baton-sim-1");
        try
        {
            await redis.StopAsync();

            var (status, code, response, _) = await gateways.ChatAsync(0, SharedGateways.Chat("limited", "while down"), secret);

            Assert.Equal(503, status);
            Assert.Equal("shared_state_unavailable", code);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal(callsBefore, gateways.CallsTo("baton-sim-1"));
        }
        finally
        {
            await redis.StartAsync();
        }
        Assert.True(await UntilConnectedAsync(gateways), "the gateway reconnected to Redis");
        Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("limited", "back"), secret)).Status);
    }

    [Fact]
    public async Task Local_counts_a_keys_max_parallel_on_the_gateway_while_redis_is_down()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options =>
        {
            options.Auth.MasterKeyEnv = SharedGateways.MasterKeyVariable;
            Limited(options, 100);
        }, count: 1);
        var (_, secret) = await gateways.CreateKeyAsync("""{"name":"local","max_parallel":1,"budget_usd":5}""");
        Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("limited"), secret)).Status);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await redis.StopAsync();
            gateways.UpstreamGate = () =>
            {
                arrived.TrySetResult();
                return release.Task;
            };

            var held = gateways.ChatAsync(0, SharedGateways.Chat("limited", "held"), secret);
            await arrived.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var second = await gateways.ChatAsync(0, SharedGateways.Chat("limited", "second"), secret);
            release.SetResult();

            Assert.Equal(200, (await held).Status);
            Assert.Equal(429, second.Status);
            Assert.Equal("rate_limited", second.Code);
            Assert.True(gateways.Redis(0).FallbackCount > 0);
        }
        finally
        {
            release.TrySetResult();
            await redis.StartAsync();
        }
    }

    /// <summary>Waits for the gateways' connections to come back (the client reconnects every half second), for at most 20 s.</summary>
    private static async Task<bool> UntilConnectedAsync(SharedGateways gateways)
    {
        for (var i = 0; i < 200; i++)
        {
            if (Enumerable.Range(0, gateways.Services.Count).All(g => gateways.Redis(g).IsConnected))
            {
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }
}
