using Baton.Accounting.Budgets;
using Baton.Admission;
using Baton.Caching;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// The writes behind a response (token corrections, settlements, lease releases, cache writes) go to Redis in one
/// script for many, are applied exactly once, are seen by this gateway's next command, and are never sent twice.
/// </summary>
public sealed class RedisWriteBehindTests(RedisServer server) : RedisServerTests(server)
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-redis-writes-").FullName;
    private readonly List<IDisposable> _owned = [];


    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _owned.ForEach(o => o.Dispose());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_requests_writes_reach_redis_as_scripts_only_each_applied_exactly_once()
    {
        var connection = Views.Connect();
        var buckets = new RedisRateLimitStore(connection, TimeProvider.System);
        var budgets = Budgets(connection);
        var admissions = new RedisAdmissionStore(connection, buckets, NullLogger<RedisAdmissionStore>.Instance);
        _owned.Add(admissions);
        var cache = new RedisCacheStore(connection, 1 << 20, TimeProvider.System);
        _owned.Add(cache);
        var bucket = "writes/" + Guid.NewGuid().ToString("N");
        // 60 tokens a minute: one a second refills while the test runs, far less than one correction.
        var limits = new RateLimitSettings(null, 60, null, TimeSpan.Zero);
        var counter = new BudgetCounter("writes:" + Guid.NewGuid().ToString("N"), 10m);
        var now = DateTimeOffset.UtcNow;
        var lease = new AdmissionRequest { Deployment = new BucketTake("writes-deployment", new RateLimitSettings(null, null, 1, TimeSpan.Zero), 0, "writes:" + bucket, 1) };
        Assert.True((await buckets.TryTakeAsync(bucket, limits, 50)).Granted);
        Assert.True((await budgets.TryReserveAsync("r1", [counter], 1m, now, now.AddMinutes(5), CancellationToken.None)).Granted);
        Assert.True((await admissions.TryAdmitAsync(lease, CancellationToken.None))!.Admitted);
        // Every script once, so that Redis knows them all before the count starts.
        await buckets.ChargeAsync(bucket, limits, 0, 0);
        await cache.SaveAsync(new CachedAnswer("warm-" + Guid.NewGuid().ToString("N"), "m", "d", [], new TokenUsage(0, 0, 0, 0, 0, 0), now, now.AddMinutes(1)));
        await budgets.GetAsync(counter.Key, now, CancellationToken.None);
        await using var monitor = await RedisMonitor.StartAsync(Server);
        await monitor.QuietAsync();
        monitor.Clear();

        // What a request does behind its response, none of it awaited by the caller but the cache write.
        await buckets.ChargeAsync(bucket, limits, 0, -5);
        await buckets.ChargeAsync(bucket, limits, 0, -5);
        await budgets.SettleAsync("r1", [counter.Key], 0.123456789012m, CancellationToken.None);
        admissions.Release(new ConcurrencyLease("writes:" + bucket, lease.LeaseId));
        var answer = new CachedAnswer("writes-" + Guid.NewGuid().ToString("N"), "Bench-Model", "deployment", "{}"u8.ToArray(),
            new TokenUsage(1, 2, 3, 0, 0, 0), now, now.AddMinutes(5));
        await cache.SaveAsync(answer);
        // A read on the same connection: whatever is still queued is sent first, so it sees every write.
        Assert.Equal(new BudgetState(0.123456789012m, 0m), await budgets.GetAsync(counter.Key, now, CancellationToken.None));
        await monitor.QuietAsync();
        // Everything but the budget read: the writes.
        var writes = monitor.Commands.Where(c => !c.Contains("\"get\"", StringComparison.Ordinal)).ToList();

        var db = Admin.GetDatabase();
        var tokens = (double)await db.HashGetAsync(connection.Prefix + "rl:" + bucket, "k");
        // 60 - 50 + 5 + 5, plus what refilled meanwhile: once each, not twice (30) and not lost (10).
        Assert.InRange(tokens, 20, 22);
        Assert.Equal(0, await db.SortedSetLengthAsync(connection.Prefix + "cc:writes:" + bucket));
        Assert.Equal(2, (await new RedisCacheStore(Views.Connect(), 1 << 20, TimeProvider.System).FindAsync(answer.Key))!.Body.Length);
        Assert.Equal($"{answer.Size} bench-model", (string?)await db.HashGetAsync(connection.Prefix + "cache:index", answer.Key));
        // Five writes of four kinds, all in scripts (usually one): no ZREM, no MULTI/EXEC, no INCRBY of their own.
        Assert.All(writes, c => Assert.True(c.StartsWith("\"evalsha\"", StringComparison.Ordinal), c));
        Assert.InRange(writes.Count, 1, 5);
    }

    [Fact]
    public async Task Many_queued_corrections_and_settlements_are_exact_to_the_token_and_the_picodollar()
    {
        var first = Views.Connect();
        var second = Views.Connect();
        var buckets = new[] { new RedisRateLimitStore(first, TimeProvider.System), new RedisRateLimitStore(second, TimeProvider.System) };
        var budgets = new[] { Budgets(first), Budgets(second) };
        var bucket = "exact/" + Guid.NewGuid().ToString("N");
        var limits = new RateLimitSettings(null, 60, null, TimeSpan.Zero);
        var counter = new BudgetCounter("exact:" + Guid.NewGuid().ToString("N"), 1000m);
        var now = DateTimeOffset.UtcNow;
        Assert.True((await buckets[0].TryTakeAsync(bucket, limits, 60)).Granted);
        for (var i = 0; i < 400; i++)
        {
            Assert.True((await budgets[i % 2].TryReserveAsync($"r{i}", [counter], 1m, now, now.AddMinutes(5), CancellationToken.None)).Granted);
        }

        // 400 corrections of 2 tokens each into debt and 400 settlements of 1 picodollar and a cent, from two
        // gateways and many threads at once: more than one script's worth of writes.
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            await buckets[i % 2].ChargeAsync(bucket, limits, 0, 2);
            await budgets[i % 2].SettleAsync($"r{i}", [counter.Key], 0.010000000001m, CancellationToken.None);
        })));
        // A read on each connection sends what it still holds, ahead of the read: after both, Redis has every write.
        foreach (var store in budgets)
        {
            await store.GetAsync(counter.Key, now, CancellationToken.None);
        }
        var states = await Task.WhenAll(budgets.Select(b => b.GetAsync(counter.Key, now, CancellationToken.None).AsTask()));

        Assert.All(states, s => Assert.Equal(new BudgetState(4.000000000400m, 0m), s));
        var tokens = (double)await Admin.GetDatabase().HashGetAsync(first.Prefix + "rl:" + bucket, "k");
        // 800 tokens of debt, less what refilled (one a second): each correction applied once.
        Assert.InRange(tokens, -800, -760);
        Assert.Equal(0, first.FallbackCount + second.FallbackCount);
    }

    [Fact]
    public async Task A_batch_that_times_out_is_not_sent_again_and_is_applied_once()
    {
        var connection = new RedisConnection(new RedisOptions { Connection = Server.Connection, Prefix = "timeout-" + Guid.NewGuid().ToString("N")[..8] + ":", TimeoutMs = 100 },
            NullLogger<RedisConnection>.Instance);
        _owned.Add(connection);
        var local = new SqliteBudgetStore(Path.Combine(_directory, "local-timeout.db"));
        _owned.Add(local);
        var budgets = new RedisBudgetStore(connection, local);
        var counter = new BudgetCounter("timeout:" + Guid.NewGuid().ToString("N"), 10m);
        var now = DateTimeOffset.UtcNow;
        Assert.True((await budgets.TryReserveAsync("r1", [counter], 1m, now, now.AddMinutes(5), CancellationToken.None)).Granted);
        var control = Control();
        var db = Admin.GetDatabase();

        // Redis holds every write for a while: the settlement's script is sent, and its reply comes too late.
        await control.ExecuteAsync("CLIENT", "PAUSE", "1500", "WRITE");
        await budgets.SettleAsync("r1", [counter.Key], 0.25m, CancellationToken.None);
        // The gateway counts it in its own state meanwhile (fail mode local), as it did each write on its own.
        Assert.True(await Poll.UntilAsync(async () => (await local.GetAsync(counter.Key, now, CancellationToken.None)).SpentUsd == 0.25m));
        Assert.True(connection.FallbackCount >= 1);

        // Once Redis runs again, the script sent runs, once: later commands send nothing again.
        var spent = connection.Prefix + "budget:spent:" + counter.Key;
        Assert.True(await Poll.UntilAsync(async () => (long?)await db.StringGetAsync(spent) is not null));
        await budgets.SettleAsync("r1", [counter.Key], 0m, CancellationToken.None);
        await budgets.GetAsync(counter.Key, now, CancellationToken.None);
        await budgets.GetAsync(counter.Key, now, CancellationToken.None);
        Assert.Equal(250_000_000_000L, (long)await db.StringGetAsync(spent));
        Assert.False(await db.HashExistsAsync(connection.Prefix + "budget:reserved:" + counter.Key, "r1"));
    }

    [Fact]
    public async Task A_write_redis_refuses_is_applied_locally_alone_and_the_rest_of_its_batch_in_redis()
    {
        var connection = Views.Connect();
        var db = Admin.GetDatabase();
        var id = Guid.NewGuid().ToString("N");
        var limits = new RateLimitSettings(null, 60, null, TimeSpan.Zero);
        // Two keys another program wrote with the wrong content: a bucket that is a string, a spending that is not a number.
        await db.StringSetAsync(connection.Prefix + "rl:bad:" + id, "not a hash");
        await db.StringSetAsync(connection.Prefix + "budget:spent:bad:" + id, "not a number");
        var local = new System.Collections.Concurrent.ConcurrentQueue<string>();

        connection.Writes.Charge(connection.Buckets["good-1:" + id], null, 60, 0, 5, new RedisWriteBehind.PendingWrite(() => local.Enqueue("good-1"), null));
        connection.Writes.Charge(connection.Buckets["bad:" + id], null, 60, 0, 5, new RedisWriteBehind.PendingWrite(() => local.Enqueue("bad"), null));
        connection.Writes.Settle([connection.Spent["bad:" + id], connection.Reserved["bad:" + id]], "r1", 7, () =>
        {
            local.Enqueue("bad-settlement");
            return Task.CompletedTask;
        });
        connection.Writes.Charge(connection.Buckets["good-2:" + id], null, 60, 0, 5, new RedisWriteBehind.PendingWrite(() => local.Enqueue("good-2"), null));
        await connection.Writes.Cache(connection.Key("cache:entry:" + id), connection.Key("cache:index:" + id), "{}"u8.ToArray(), 60_000, id, 2, "m");

        // Only the refused writes were applied locally, each once; the others are in Redis, each once. (Should the
        // writes have gone in more than one batch, an earlier batch's fallbacks may still be running: polled.)
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(local.Count >= 2)));
        Assert.Equal(new[] { "bad", "bad-settlement" }, local.Order(StringComparer.Ordinal));
        Assert.Equal(55, (double)await db.HashGetAsync(connection.Prefix + "rl:good-1:" + id, "k"), 0.5);
        Assert.Equal(55, (double)await db.HashGetAsync(connection.Prefix + "rl:good-2:" + id, "k"), 0.5);
        Assert.Equal("not a hash", (string?)await db.StringGetAsync(connection.Prefix + "rl:bad:" + id));
        Assert.Equal("not a number", (string?)await db.StringGetAsync(connection.Prefix + "budget:spent:bad:" + id));
        Assert.True(await db.KeyExistsAsync(connection.Key("cache:entry:" + id)));
        Assert.Equal(2, connection.FallbackCount);
    }

    [Fact]
    public async Task Charges_of_one_bucket_in_one_batch_reach_redis_as_one_write_of_their_sum()
    {
        var connection = Views.Connect();
        // Sent only when the test says so: every write below is in one batch.
        var writes = new RedisWriteBehind(connection, _ => { });
        var id = Guid.NewGuid().ToString("N");
        var shared = connection.Buckets["merged:" + id];
        var other = connection.Buckets["other:" + id];
        await using var monitor = await RedisMonitor.StartAsync(Server);

        // What the requests of one key do behind their responses: corrections that take and give back, a retry's
        // request; and a charge of the same bucket under other limits (a reloaded configuration), which stays apart.
        writes.Charge(shared, 100, 60, 0, 5, RedisWriteBehind.PendingWrite.Nothing);
        writes.Charge(other, null, 60, 0, 7, RedisWriteBehind.PendingWrite.Nothing);
        writes.Charge(shared, 100, 60, 0, -2, RedisWriteBehind.PendingWrite.Nothing);
        writes.Charge(shared, 100, 60, 1, 10, RedisWriteBehind.PendingWrite.Nothing);
        writes.Charge(shared, 100, 120, 0, 1, RedisWriteBehind.PendingWrite.Nothing);
        var sent = writes.Cache(connection.Key("cache:entry:" + id), connection.Key("cache:index:" + id), "{}"u8.ToArray(), 60_000, id, 2, "m");
        writes.SendPending();
        await sent;
        // The server has run the batch; its MONITOR line reaches the monitor's own connection a moment later.
        await monitor.QuietAsync();

        var script = Assert.Single(monitor.Commands, c => c.StartsWith("\"eval", StringComparison.Ordinal));
        // The bucket is named once per limits it was charged under: twice, not four times.
        var name = $"\"{(string?)shared}\"".ToLowerInvariant();
        Assert.Equal(2, script.Split(name).Length - 1);
        var db = Admin.GetDatabase();
        // 60 tokens less 5, plus 2, less 10: 47; then less 1 in the 120-token charge. 100 requests less 1. Refill while
        // the test runs is a token a second at most.
        Assert.Equal(46, (double)await db.HashGetAsync(shared, "k"), 1.0);
        Assert.Equal(99, (double)await db.HashGetAsync(shared, "r"), 0.1);
        Assert.Equal(53, (double)await db.HashGetAsync(other, "k"), 1.0);
        Assert.Equal(0, connection.FallbackCount);
    }

    [Fact]
    public async Task Charges_sent_as_one_that_redis_refuses_are_each_applied_locally_once()
    {
        var connection = Views.Connect();
        var writes = new RedisWriteBehind(connection, _ => { });
        var db = Admin.GetDatabase();
        var id = Guid.NewGuid().ToString("N");
        await db.StringSetAsync(connection.Prefix + "rl:bad:" + id, "not a hash");
        var local = new System.Collections.Concurrent.ConcurrentQueue<string>();

        foreach (var name in new[] { "first", "second", "third" })
        {
            writes.Charge(connection.Buckets["bad:" + id], null, 60, 0, 5, new RedisWriteBehind.PendingWrite(() => local.Enqueue(name), null));
        }
        var sent = writes.Cache(connection.Key("cache:entry:" + id), connection.Key("cache:index:" + id), "{}"u8.ToArray(), 60_000, id, 2, "m");
        writes.SendPending();
        await sent;

        Assert.Equal(new[] { "first", "second", "third" }, local.ToArray());
        Assert.Equal(3, connection.FallbackCount);
        Assert.Equal("not a hash", (string?)await db.StringGetAsync(connection.Prefix + "rl:bad:" + id));
        Assert.True(await db.KeyExistsAsync(connection.Key("cache:entry:" + id)));
    }

    [Fact]
    public async Task One_script_with_a_refused_write_in_the_middle_applies_every_other_write_and_names_the_refused_one()
    {
        var connection = Views.Connect();
        var db = Admin.GetDatabase();
        var id = Guid.NewGuid().ToString("N");
        RedisKey good = connection.Prefix + "rl:one-good:" + id;
        RedisKey bad = connection.Prefix + "cc:one-bad:" + id;
        RedisKey leases = connection.Prefix + "cc:one-leases:" + id;
        await db.StringSetAsync(bad, "not a sorted set");
        await db.SortedSetAddAsync(leases, [new SortedSetEntry("lease-1", 1), new SortedSetEntry("lease-3", 1), new SortedSetEntry("other", 1)]);

        // Charge, releases from a string (refused) and from a set in turn, charge: as one batch of the write-behind
        // queue sends them. The releases of each set go in one command: both refused ones are named.
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(RedisWriteBehind.Script, [good, bad, leases, bad, leases, good],
            ["c", -1, 60, 0, 5, "z", "lease-0", "z", "lease-1", "z", "lease-2", "z", "lease-3", "c", -1, 60, 0, 5]))!;

        Assert.Equal(4, reply.Length);
        Assert.Equal(1, (int)reply[0]);
        Assert.StartsWith("WRONGTYPE", (string?)reply[1], StringComparison.Ordinal);
        Assert.Equal(3, (int)reply[2]);
        Assert.StartsWith("WRONGTYPE", (string?)reply[3], StringComparison.Ordinal);
        Assert.Equal(50, (double)await db.HashGetAsync(good, "k"), 0.5);
        Assert.Equal(["other"], (await db.SortedSetRangeByRankAsync(leases)).Select(v => (string)v!));
    }

    private RedisBudgetStore Budgets(RedisConnection connection)
    {
        var local = new SqliteBudgetStore(Path.Combine(_directory, $"local-{Guid.NewGuid():N}.db"));
        _owned.Add(local);
        return new RedisBudgetStore(connection, local);
    }
}
