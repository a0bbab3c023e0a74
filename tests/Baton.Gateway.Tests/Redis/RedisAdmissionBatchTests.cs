using Baton.Admission;
using Baton.Configuration;
using Baton.Errors;
using Baton.Gateway.Tests.TestSupport;
using Baton.RateLimiting;
using Baton.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// Admissions that arrive while one is on its way to Redis go together in one script, and Redis still decides each
/// one in arrival order: limits stay exact across gateways, and a Redis that does not answer in time gives every
/// waiting admission the fail mode.
/// </summary>
public sealed class RedisAdmissionBatchTests(RedisServer server) : RedisAdmissionStoreTests(server, "batch")
{
    [Fact]
    public async Task Admissions_arriving_while_one_is_in_flight_go_in_one_script_and_each_is_decided_in_order()
    {
        var (connection, admissions) = Gateway(timeoutMs: 30_000);
        var set = "batch:" + Guid.NewGuid().ToString("N");
        // The script is loaded, so that nothing but the admissions below reaches Redis.
        Assert.True((await admissions.TryAdmitAsync(Request("warm:" + set, 1), CancellationToken.None))!.Admitted);
        var sentBefore = admissions.AdmissionScriptsSent;

        // Redis holds scripts for a while: the first admissions are in flight, one script each, the twenty after them queue.
        await Control().ExecuteAsync("CLIENT", "PAUSE", "500", "WRITE");
        var first = Enumerable.Range(0, RedisAdmissionQueue.MaxInFlight).Select(_ => admissions.TryAdmitAsync(Request(set, 5), CancellationToken.None).AsTask()).ToList();
        var queued = Enumerable.Range(0, 20).Select(_ => admissions.TryAdmitAsync(Request(set, 5), CancellationToken.None).AsTask()).ToList();
        var results = await Task.WhenAll(first.Concat(queued));

        // The first ones alone, the twenty together in one script.
        Assert.Equal(RedisAdmissionQueue.MaxInFlight + 1, admissions.AdmissionScriptsSent - sentBefore);
        // Decided one after another, in arrival order: the first five take the five slots, the others find them taken.
        Assert.All(results.Take(5), r => Assert.Equal(AdmissionStage.Admitted, r!.Stage));
        Assert.All(results.Skip(5), r => Assert.Equal(AdmissionStage.DeploymentConcurrency, r!.Stage));
        Assert.Equal(Enumerable.Range(0, results.Length).Select(i => Math.Min(i, 5)), results.Select(r => r!.DeploymentInFlight));
        Assert.Equal(5, await Admin.GetDatabase().SortedSetLengthAsync(connection.Prefix + "cc:" + set));
        Assert.Equal(0, connection.FallbackCount);
    }

    [Fact]
    public async Task A_script_that_reads_each_key_once_decides_as_if_each_admission_ran_alone()
    {
        var (connection, admissions) = Gateway(timeoutMs: 30_000);
        var db = Admin.GetDatabase();
        var id = Guid.NewGuid().ToString("N");
        var set = "memo:" + id;
        RedisKey deploymentLeases = connection.Prefix + "cc:" + set;
        // A dead gateway left 70 expired leases: over 64, so the script purges the set when it first meets it.
        var now = (await Control().TimeAsync() - DateTime.UnixEpoch).Ticks / 10;
        await db.SortedSetAddAsync(deploymentLeases, Enumerable.Range(0, 70).Select(i => new SortedSetEntry("dead-" + i, now - 1_000_000)).ToArray());
        await db.SortedSetAddAsync(connection.Prefix + "keys:revocations", "revoked-" + id, now / 1000);
        // Key a: 4 requests a minute, no limit on calls in flight; key b: 3 calls in flight; key r: revoked.
        var a = new BucketTake("a:" + id, new RateLimitSettings(4, null, null, TimeSpan.Zero), 1, "key-a:" + id, null);
        var b = new BucketTake("b:" + id, new RateLimitSettings(100, null, 3, TimeSpan.Zero), 1, "key-b:" + id, 3);
        AdmissionRequest Next(int i) => (i % 3) switch
        {
            0 => new() { KeyId = "a-" + id, Key = a, Deployment = Request(set, 5).Deployment },
            1 => new() { KeyId = "b-" + id, Key = b, Deployment = Request(set, 5).Deployment },
            _ => new() { KeyId = "revoked-" + id, Key = a, Deployment = Request(set, 5).Deployment },
        };
        Assert.True((await admissions.TryAdmitAsync(Request("warm:" + set, 1), CancellationToken.None))!.Admitted);
        var sentBefore = admissions.AdmissionScriptsSent;

        await Control().ExecuteAsync("CLIENT", "PAUSE", "500", "WRITE");
        var first = Enumerable.Range(0, RedisAdmissionQueue.MaxInFlight).Select(i => admissions.TryAdmitAsync(Request($"other-{i}:" + set, 1), CancellationToken.None).AsTask()).ToList();
        var batch = Enumerable.Range(0, 18).Select(i => admissions.TryAdmitAsync(Next(i), CancellationToken.None).AsTask()).ToList();
        await Task.WhenAll(first);
        var results = await Task.WhenAll(batch);

        Assert.Equal(RedisAdmissionQueue.MaxInFlight + 1, admissions.AdmissionScriptsSent - sentBefore);
        // In order: the deployment's five slots go to the first five with a live key; key a runs out of requests after
        // four, key b of slots after three; each revoked admission takes nothing.
        AdmissionStage[] expected =
        [
            AdmissionStage.Admitted, AdmissionStage.Admitted, AdmissionStage.Revoked,
            AdmissionStage.Admitted, AdmissionStage.Admitted, AdmissionStage.Revoked,
            AdmissionStage.Admitted, AdmissionStage.DeploymentConcurrency, AdmissionStage.Revoked,
            AdmissionStage.DeploymentConcurrency, AdmissionStage.KeyConcurrency, AdmissionStage.Revoked,
            AdmissionStage.KeyRate, AdmissionStage.KeyConcurrency, AdmissionStage.Revoked,
            AdmissionStage.KeyRate, AdmissionStage.KeyConcurrency, AdmissionStage.Revoked,
        ];
        Assert.Equal(expected, results.Select(r => r!.Stage));
        Assert.Equal([0, 1, 0, 2, 3, 0, 4, 5, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0], results.Select(r => r!.DeploymentInFlight));
        // What the script wrote back once is what the admissions one by one would have left: the live leases only,
        // key b's held slots (key a counts none), and the buckets' levels.
        Assert.Equal(5, await db.SortedSetLengthAsync(deploymentLeases));
        Assert.Equal(0, await db.SortedSetLengthAsync(deploymentLeases, double.NegativeInfinity, now));
        Assert.False(await db.KeyExistsAsync(connection.Prefix + "cc:key-a:" + id));
        Assert.Equal(3, await db.SortedSetLengthAsync(connection.Prefix + "cc:key-b:" + id));
        Assert.Equal("0", await db.HashGetAsync(connection.Prefix + "rl:a:" + id, "r"));
        Assert.Equal("97", await db.HashGetAsync(connection.Prefix + "rl:b:" + id, "r"));
        // The warm-up's and the first admissions' leases, then the batch's: three of key b, five of the deployment.
        Assert.Equal(1 + RedisAdmissionQueue.MaxInFlight + 3 + 5, admissions.HeldLeases);
    }

    [Fact]
    public async Task Levels_that_are_not_whole_are_written_and_read_back_as_each_admission_alone_would()
    {
        var (connection, admissions) = Gateway(timeoutMs: 30_000);
        var db = Admin.GetDatabase();
        var id = Guid.NewGuid().ToString("N");
        RedisKey bucket = connection.Prefix + "rl:levels:" + id;
        // Refilled last a minute from now, so nothing refills during the test: three requests and a third left (a level
        // with 14 significant digits, as the scripts write one), and forty tokens.
        var later = ((await Control().TimeAsync() - DateTime.UnixEpoch).Ticks / 10) + 60_000_000;
        var stamp = later.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await db.HashSetAsync(bucket, [new("r", "3.3333333333333"), new("rt", stamp), new("k", "40"), new("kt", stamp), new("p", "0"), new("e", stamp)]);
        var take = new BucketTake("levels:" + id, new RateLimitSettings(10, 1_000, null, TimeSpan.Zero), 10, "levels-set:" + id, null);
        Assert.True((await admissions.TryAdmitAsync(Request("warm:levels:" + id, 1), CancellationToken.None))!.Admitted);
        var sentBefore = admissions.AdmissionScriptsSent;

        await Control().ExecuteAsync("CLIENT", "PAUSE", "500", "WRITE");
        var first = Enumerable.Range(0, RedisAdmissionQueue.MaxInFlight).Select(i => admissions.TryAdmitAsync(Request($"other-{i}:levels:" + id, 1), CancellationToken.None).AsTask()).ToList();
        var batch = Enumerable.Range(0, 4).Select(_ => admissions.TryAdmitAsync(new AdmissionRequest { Deployment = take }, CancellationToken.None).AsTask()).ToList();
        await Task.WhenAll(first);
        var results = await Task.WhenAll(batch);

        Assert.Equal(RedisAdmissionQueue.MaxInFlight + 1, admissions.AdmissionScriptsSent - sentBefore);
        Assert.Equal([AdmissionStage.Admitted, AdmissionStage.Admitted, AdmissionStage.Admitted, AdmissionStage.DeploymentRate], results.Select(r => r!.Stage));
        // The fourth finds a third of a request (0.3333333333333, as read back) and ten tokens: two thirds of a request
        // at ten a minute is four seconds, and a microsecond more for the level's last digit.
        Assert.Equal(RateLimitRefusal.Requests, results[3]!.Deployment.Reason);
        Assert.InRange(results[3]!.Deployment.RetryAfter, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(4.001));
        Assert.Equal("0.3333333333333", (string?)await db.HashGetAsync(bucket, "r"));
        Assert.Equal("10", (string?)await db.HashGetAsync(bucket, "k"));
    }

    [Fact]
    public async Task Many_concurrent_admissions_on_two_gateways_share_a_limit_exactly()
    {
        var gateways = new[] { Gateway(timeoutMs: 30_000), Gateway(timeoutMs: 30_000) };
        var set = "shared:" + Guid.NewGuid().ToString("N");
        var bucket = "shared-key:" + Guid.NewGuid().ToString("N");

        // 400 admissions at once, half on each gateway, against a deployment of 37 calls in flight and a key of 150
        // requests a minute (2.5 a second refill while the test runs: counted below).
        var started = DateTimeOffset.UtcNow;
        var results = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() =>
            gateways[i % 2].Admissions.TryAdmitAsync(Request(set, 37, new BucketTake(bucket, new RateLimitSettings(150, null, null, TimeSpan.Zero), 1, "key:" + bucket, null)),
                CancellationToken.None).AsTask())));
        var seconds = (DateTimeOffset.UtcNow - started).TotalSeconds;

        Assert.All(results, r => Assert.NotNull(r));
        Assert.Equal(37, results.Count(r => r!.Admitted));
        Assert.Equal(37, await Admin.GetDatabase().SortedSetLengthAsync(gateways[0].Connection.Prefix + "cc:" + set));
        // Every admission the key's bucket let through went on to the deployment: exactly its 150, plus what refilled.
        var keyGranted = results.Count(r => r!.Stage is AdmissionStage.Admitted or AdmissionStage.DeploymentConcurrency);
        Assert.InRange(keyGranted, 150, 150 + (int)Math.Ceiling(seconds * 2.5));
        Assert.Equal(400 - keyGranted, results.Count(r => r!.Stage == AdmissionStage.KeyRate));
        Assert.Equal(0, gateways.Sum(g => g.Connection.FallbackCount));
        // Fewer scripts than admissions is what batching saves; how many fewer depends on timing, so only the bound.
        Assert.InRange(gateways.Sum(g => g.Admissions.AdmissionScriptsSent), 2, 400);
    }

    [Fact]
    public async Task When_redis_does_not_answer_in_time_every_waiting_admission_is_served_locally_and_counted()
    {
        var (connection, admissions) = Gateway(timeoutMs: 200);
        var set = "late:" + Guid.NewGuid().ToString("N");
        Assert.True(await AdmittedAgainAsync(admissions, "warm:" + set));
        var fallbacksBefore = connection.FallbackCount;

        await Control().ExecuteAsync("CLIENT", "PAUSE", "1500", "WRITE");
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => admissions.TryAdmitAsync(Request(set, 100), CancellationToken.None).AsTask()));

        // Fail mode local: no admission is decided by a Redis that did not answer, each is counted once.
        Assert.All(results, Assert.Null);
        Assert.Equal(10, connection.FallbackCount - fallbacksBefore);
        Assert.True(connection.IsDown);
        // Once Redis answers again, so does the queue: nothing stays stuck behind the late scripts.
        await Control().ExecuteAsync("CLIENT", "UNPAUSE");
        Assert.True(await AdmittedAgainAsync(admissions, "after:" + set));
        Assert.False(connection.IsDown);
    }

    [Fact]
    public async Task In_fail_mode_closed_every_waiting_admission_is_refused_with_a_503()
    {
        var (connection, admissions) = Gateway(timeoutMs: 200, failMode: RedisFailModes.Closed);
        var set = "closed:" + Guid.NewGuid().ToString("N");
        Assert.True(await AdmittedAgainAsync(admissions, "warm:" + set));
        var fallbacksBefore = connection.FallbackCount;

        await Control().ExecuteAsync("CLIENT", "PAUSE", "1500", "WRITE");
        var attempts = Enumerable.Range(0, 10).Select(_ => admissions.TryAdmitAsync(Request(set, 100), CancellationToken.None).AsTask()).ToList();
        foreach (var attempt in attempts)
        {
            var refused = await Assert.ThrowsAsync<BatonException>(() => attempt);
            Assert.Equal(503, refused.StatusCode);
            Assert.Equal("shared_state_unavailable", refused.Code);
        }

        Assert.Equal(10, connection.FallbackCount - fallbacksBefore);
        await Control().ExecuteAsync("CLIENT", "UNPAUSE");
        Assert.True(await AdmittedAgainAsync(admissions, "after:" + set));
    }

    [Fact]
    public async Task Expired_leases_never_take_a_slot_however_many_of_them_the_set_holds()
    {
        var (connection, admissions) = Gateway(timeoutMs: 30_000);
        var db = Admin.GetDatabase();
        foreach (var (max, expired) in new[] { (2, 2), (3, 1), (100, 100), (200, 80) })
        {
            var set = $"expired-{max}-{expired}:" + Guid.NewGuid().ToString("N");
            RedisKey key = connection.Prefix + "cc:" + set;
            // Leases of a gateway that died, expired a second ago (scores are expiries in microseconds on Redis's clock).
            var now = (await Control().TimeAsync() - DateTime.UnixEpoch).Ticks / 10;
            await db.SortedSetAddAsync(key, Enumerable.Range(0, expired).Select(i => new SortedSetEntry("dead-" + i, now - 1_000_000)).ToArray());

            // Every slot is free: as many admissions as the limit are admitted, and the next one is refused.
            for (var i = 0; i < max; i++)
            {
                Assert.Equal(AdmissionStage.Admitted, (await admissions.TryAdmitAsync(Request(set, max), CancellationToken.None))!.Stage);
            }
            var refused = (await admissions.TryAdmitAsync(Request(set, max), CancellationToken.None))!;
            Assert.Equal(AdmissionStage.DeploymentConcurrency, refused.Stage);
            Assert.Equal(max, refused.DeploymentInFlight);
            Assert.Equal(max, await db.SortedSetLengthAsync(key));
        }
    }

    /// <summary>
    /// Asks for up to ten seconds of real time until Redis admits: after a pause, the scripts held during it run
    /// first; before one, the first admission loads the script. Either may miss the short timeout on a loaded machine.
    /// </summary>
    private static async Task<bool> AdmittedAgainAsync(RedisAdmissionStore admissions, string set)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                if (await admissions.TryAdmitAsync(Request(set + ":" + i, 1), CancellationToken.None) is { Admitted: true })
                {
                    return true;
                }
            }
            catch (BatonException)
            {
                // Fail mode closed while Redis catches up.
            }
            await Task.Delay(100);
        }
        return false;
    }


    /// <summary>An admission of one call of a deployment allowing <paramref name="maxConcurrency"/> calls in flight in <paramref name="set"/>.</summary>
    private static AdmissionRequest Request(string set, int maxConcurrency, BucketTake? key = null) => new()
    {
        Key = key,
        Deployment = new BucketTake("unlimited", new RateLimitSettings(null, null, maxConcurrency, TimeSpan.Zero), 0, set, maxConcurrency),
    };
}
