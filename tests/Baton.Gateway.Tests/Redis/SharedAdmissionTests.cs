using Baton.Caching;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Baton.Redis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// The request's one Redis round trip (key limits, budget and deployment limits in one script), calls in flight
/// shared by every gateway (leases), and revocations seen by the next request on any gateway.
/// </summary>
public sealed class SharedAdmissionTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static void Limited(BatonOptions options, int? maxConcurrency = null) =>
        options.Models["limited"] = new ModelOptions
        {
            Deployments =
            [
                new DeploymentOptions
                {
                    Provider = SharedGateways.AddProvider(options, "sim-limited"), Model = "baton-sim-1",
                    RateLimits = new RateLimitOptions { RequestsPerMinute = 1000, TokensPerMinute = 1_000_000, MaxConcurrency = maxConcurrency, MaxQueueWaitSeconds = 0 },
                },
            ],
        };

    [Fact]
    public async Task A_request_with_key_limits_a_budget_and_a_limited_deployment_makes_one_round_trip_before_the_upstream_call()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options =>
        {
            options.Auth.MasterKeyEnv = SharedGateways.MasterKeyVariable;
            options.Budgets.Limits["everyone"] = new BudgetLimitOptions { Scope = BudgetScopes.Global, HardUsd = 100m };
            Limited(options, maxConcurrency: 4);
        }, count: 1);
        var (_, secret) = await gateways.CreateKeyAsync("""{"name":"counted","rpm":100,"tpm":100000,"max_parallel":3,"budget_usd":50}""");
        // The first request loads the script and reads the key into the gateway's key cache.
        Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("limited", "warm up"), secret)).Status);
        await using var monitor = await RedisMonitor.StartAsync(redis);
        await monitor.QuietAsync();
        monitor.Clear();

        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateways.UpstreamGate = () =>
        {
            arrived.TrySetResult();
            return release.Task;
        };
        var answer = gateways.ChatAsync(0, SharedGateways.Chat("limited", "counted"), secret);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // Everything the request did before reaching the upstream has reached Redis by now; wait for MONITOR to tell.
        await monitor.QuietAsync();
        // Lease renewals (every ten seconds, for every lease the gateway holds) are not the request's.
        var beforeUpstream = monitor.Commands.Where(c => !c.Contains("\"renew\"", StringComparison.Ordinal)).ToList();
        release.SetResult();
        var (status, _, response, _) = await answer;

        Assert.Equal(200, status);
        var command = Assert.Single(beforeUpstream);
        Assert.StartsWith("\"evalsha\"", command, StringComparison.Ordinal);
        Assert.Contains(":keys:revocations\"", command, StringComparison.Ordinal);
        // The response's rate-limit headers come from the levels that script returned, not from another script.
        Assert.True(response.Headers.Contains("x-ratelimit-remaining-requests"));
        await monitor.QuietAsync();
        Assert.DoesNotContain(monitor.Commands, c => c.Contains("\"snap\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(CacheStores.Memory)]
    [InlineData(CacheStores.Sqlite)]
    public async Task With_the_cache_on_a_miss_and_a_hit_make_one_admission_script_each_and_a_revoked_key_gets_no_hit(string store)
    {
        var cacheDirectory = Directory.CreateTempSubdirectory("baton-admission-cache-").FullName;
        try
        {
            await using var gateways = await SharedGateways.StartAsync(redis, options =>
            {
                options.Auth.MasterKeyEnv = SharedGateways.MasterKeyVariable;
                options.Budgets.Limits["everyone"] = new BudgetLimitOptions { Scope = BudgetScopes.Global, HardUsd = 100m };
                options.Cache = new CacheOptions { Mode = CacheModes.On, Store = store, Path = Path.Combine(cacheDirectory, "cache.db") };
                Limited(options, maxConcurrency: 4);
            }, count: 2);
            var (id, secret) = await gateways.CreateKeyAsync("""{"name":"cached","rpm":100,"tpm":100000,"max_parallel":3,"budget_usd":50}""");
            Assert.Equal(200, (await gateways.ChatAsync(0, SharedGateways.Chat("limited", "warm up"), secret)).Status);
            await using var monitor = await RedisMonitor.StartAsync(redis);
            await monitor.QuietAsync();
            monitor.Clear();

            // A miss: one script (key, budget, deployment) before the upstream call.
            var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gateways.UpstreamGate = () =>
            {
                arrived.TrySetResult();
                return release.Task;
            };
            var question = SharedGateways.Chat("limited", "asked twice");
            var answer = gateways.ChatAsync(0, question, secret);
            await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await monitor.QuietAsync();
            var beforeUpstream = monitor.Commands.Where(c => !c.Contains("\"renew\"", StringComparison.Ordinal)).ToList();
            release.SetResult();
            var miss = await answer;
            Assert.Equal(200, miss.Status);
            Assert.Equal("miss", Assert.Single(miss.Response.Headers.GetValues("x-baton-cache")));
            var command = Assert.Single(beforeUpstream);
            Assert.StartsWith("\"evalsha\"", command, StringComparison.Ordinal);
            Assert.Contains(":budget:reserved:", command, StringComparison.Ordinal);
            // The admission script's SHA: corrections behind the response are other scripts.
            var admissionSha = command.Split(' ')[1];

            // A hit: one script (the key's revocation and limits) and no upstream call.
            gateways.UpstreamGate = null;
            var upstreamBefore = gateways.UpstreamCalls.Values.Sum();
            await monitor.QuietAsync();
            monitor.Clear();
            var hit = await gateways.ChatAsync(0, question, secret);
            await monitor.QuietAsync();
            Assert.Equal(200, hit.Status);
            Assert.Equal("hit", Assert.Single(hit.Response.Headers.GetValues("x-baton-cache")));
            Assert.Equal(upstreamBefore, gateways.UpstreamCalls.Values.Sum());
            var script = Assert.Single(monitor.Commands, c => c.StartsWith("\"evalsha\" " + admissionSha, StringComparison.Ordinal));
            Assert.Contains(":keys:revocations\"", script, StringComparison.Ordinal);
            Assert.DoesNotContain(":budget:", script, StringComparison.Ordinal);

            // Revoked on the other gateway, whose announcement is lost: the script refuses what would be a hit.
            await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.Connection + ",allowAdmin=true"))
            {
                await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
            }
            using var revoke = new HttpRequestMessage(HttpMethod.Delete, $"/admin/keys/{id}");
            revoke.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SharedGateways.MasterKey);
            using var revoked = await gateways.Clients[1].SendAsync(revoke);
            Assert.True(revoked.IsSuccessStatusCode);
            var refused = await gateways.ChatAsync(0, question, secret);
            Assert.Equal(401, refused.Status);
            Assert.Equal("invalid_api_key", refused.Code);
            Assert.Equal(upstreamBefore, gateways.UpstreamCalls.Values.Sum());
        }
        finally
        {
            Directory.Delete(cacheDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_keys_max_parallel_holds_across_three_gateways()
    {
        const int MaxParallel = 2;
        await using var gateways = await SharedGateways.StartAsync(redis, options =>
        {
            options.Auth.MasterKeyEnv = SharedGateways.MasterKeyVariable;
            Limited(options);
        });
        var (_, secret) = await gateways.CreateKeyAsync($$"""{"name":"parallel","max_parallel":{{MaxParallel}}}""");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateways.UpstreamGate = () => release.Task;

        var requests = Enumerable.Range(0, 9).Select(i => gateways.ChatAsync(i % 3, SharedGateways.Chat("limited", $"parallel {i}"), secret)).ToList();
        // A key over its max_parallel is refused at once: seven answers come back while two calls are held upstream
        // (an admitted call may reach the upstream after the refusals are answered, so both are awaited).
        Assert.True(await Poll.UntilAsync(() => requests.Count(r => r.IsCompleted) == 9 - MaxParallel && gateways.InFlight == MaxParallel));
        release.SetResult();
        var results = await Task.WhenAll(requests);

        Assert.Equal(MaxParallel, gateways.MaxInFlight);
        Assert.Equal(MaxParallel, results.Count(r => r.Status == 200));
        Assert.All(results.Where(r => r.Status != 200), r =>
        {
            Assert.Equal(429, r.Status);
            Assert.Equal("rate_limited", r.Code);
        });
        // The slots are given back when the calls end: the key may run two at once again.
        gateways.UpstreamGate = null;
        Assert.True(await Poll.UntilAsync(() => Enumerable.Range(0, 3).All(g => ((RedisAdmissionStore)gateways.Services[g].GetRequiredService<Baton.Admission.IAdmissionStore>()).HeldLeases == 0)));
        var again = await Task.WhenAll(Enumerable.Range(0, MaxParallel).Select(g => gateways.ChatAsync(g, SharedGateways.Chat("limited", $"again {g}"), secret)));
        Assert.All(again, r => Assert.Equal(200, r.Status));
    }

    [Fact]
    public async Task A_deployments_max_concurrency_holds_across_three_gateways()
    {
        const int MaxConcurrency = 2;
        await using var gateways = await SharedGateways.StartAsync(redis, options => Limited(options, MaxConcurrency));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateways.UpstreamGate = () => release.Task;

        var requests = Enumerable.Range(0, 6).Select(i => gateways.ChatAsync(i % 3, SharedGateways.Chat("limited", $"concurrent {i}"))).ToList();
        // With no queue wait, the calls past the limit are refused while two are held upstream (both awaited, as an
        // admitted call may reach the upstream after the refusals are answered).
        Assert.True(await Poll.UntilAsync(() => requests.Count(r => r.IsCompleted) == 6 - MaxConcurrency && gateways.InFlight == MaxConcurrency));
        release.SetResult();
        var results = await Task.WhenAll(requests);

        Assert.Equal(MaxConcurrency, gateways.MaxInFlight);
        Assert.Equal(MaxConcurrency, results.Count(r => r.Status == 200));
        Assert.All(results.Where(r => r.Status != 200), r => Assert.Equal("rate_limited", r.Code));
    }

    [Fact]
    public async Task A_key_revoked_on_one_gateway_is_refused_by_the_very_next_request_on_another()
    {
        await using var gateways = await SharedGateways.StartAsync(redis, options => options.Auth.MasterKeyEnv = SharedGateways.MasterKeyVariable);
        var (id, secret) = await gateways.CreateKeyAsync("""{"name":"revoked-soon"}""");
        for (var g = 0; g < 3; g++)
        {
            Assert.Equal(200, (await gateways.ChatAsync(g, SharedGateways.Chat("gpt-sim"), secret)).Status);
        }
        // Cut every pub/sub connection first: the announcement of the revocation is lost for the other gateways
        // (their subscriptions come back only after it), so only the admission script can refuse the key there.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.Connection + ",allowAdmin=true"))
        {
            await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        }
        using var revoke = new HttpRequestMessage(HttpMethod.Delete, $"/admin/keys/{id}");
        revoke.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SharedGateways.MasterKey);
        using var revoked = await gateways.Clients[1].SendAsync(revoke);
        Assert.True(revoked.IsSuccessStatusCode);

        var local = await gateways.ChatAsync(1, SharedGateways.Chat("gpt-sim"), secret);
        var remote = await gateways.ChatAsync(2, SharedGateways.Chat("gpt-sim"), secret);

        Assert.Equal(401, local.Status);
        Assert.Equal(401, remote.Status);
        Assert.Equal(local.Code, remote.Code);
        Assert.Equal("invalid_api_key", remote.Code);
        Assert.Equal(local.Body.GetProperty("error").GetProperty("type").GetString(), remote.Body.GetProperty("error").GetProperty("type").GetString());
    }
}
