using Baton.Accounting.Budgets;
using Baton.Admission;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Baton.RateLimiting;
using Baton.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// An admission whose caller stops waiting while its script is on its way (the caller cancels, or the script misses
/// <c>redis.timeoutMs</c> and the fail mode serves the request) may still run in Redis: what it took there is given
/// back when the script answers, instead of holding calls-in-flight slots and budget money until they expire.
/// </summary>
public sealed class RedisAbandonedAdmissionTests(RedisServer server) : RedisAdmissionStoreTests(server, "abandoned")
{
    [Fact]
    public async Task A_caller_that_cancels_while_its_script_is_in_flight_leaves_no_lease_and_no_reservation_behind()
    {
        var (connection, admissions) = Gateway(timeoutMs: 30_000);
        var names = new Names();
        await WarmAsync(admissions, names);

        // Redis holds the script; the caller gives up while it waits.
        await Control().ExecuteAsync("CLIENT", "PAUSE", "1000", "WRITE");
        using var cancel = new CancellationTokenSource();
        var asked = names.Request();
        var admission = admissions.TryAdmitAsync(asked, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => admission);
        await Control().ExecuteAsync("CLIENT", "UNPAUSE");

        // The script ran once Redis resumed (it charged the key's bucket), and what it took was given back.
        var db = Admin.GetDatabase();
        Assert.True(await Poll.UntilAsync(async () => await db.KeyExistsAsync(connection.Prefix + "rl:" + names.KeyBucket)));
        Assert.True(await Poll.UntilAsync(async () => await LeftAsync(connection, names) == 0));
        Assert.Equal(0, admissions.HeldLeases);
    }

    [Fact]
    public async Task Admissions_served_by_the_fail_mode_after_a_timeout_give_back_what_their_late_scripts_took()
    {
        var (connection, admissions) = Gateway(timeoutMs: 200);
        var names = new Names();
        await WarmAsync(admissions, names);

        // Ten admissions: four go at once and run only after the timeout; the others are not sent at all.
        await Control().ExecuteAsync("CLIENT", "PAUSE", "1000", "WRITE");
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => admissions.TryAdmitAsync(names.Request(), CancellationToken.None).AsTask()));
        Assert.All(results, Assert.Null);
        await Control().ExecuteAsync("CLIENT", "UNPAUSE");

        var db = Admin.GetDatabase();
        Assert.True(await Poll.UntilAsync(async () => await db.KeyExistsAsync(connection.Prefix + "rl:" + names.KeyBucket)));
        Assert.True(await Poll.UntilAsync(async () => await LeftAsync(connection, names) == 0));
        Assert.Equal(0, admissions.HeldLeases);
    }

    /// <summary>Leases in both sets and reservations on the budget counter (it has one for each admission still holding).</summary>
    private async Task<long> LeftAsync(RedisConnection connection, Names names)
    {
        var db = Admin.GetDatabase();
        // A command on the gateway's own connection sends the writes it still has queued.
        connection.Writes.SendPending();
        return await db.SortedSetLengthAsync(connection.Prefix + "cc:" + names.KeySet)
            + await db.SortedSetLengthAsync(connection.Prefix + "cc:" + names.DeploymentSet)
            + await db.HashLengthAsync(connection.Prefix + "budget:reserved:" + names.Counter);
    }

    /// <summary>
    /// One admission, so that Redis has the script; then its leases are given back and its traces removed, so that only
    /// the test's admissions count.
    /// </summary>
    private async Task WarmAsync(RedisAdmissionStore admissions, Names names)
    {
        var warm = names.Request();
        Assert.True((await admissions.TryAdmitAsync(warm, CancellationToken.None))!.Admitted);
        admissions.Release(new ConcurrencyLease(names.KeySet, warm.LeaseId));
        admissions.Release(new ConcurrencyLease(names.DeploymentSet, warm.LeaseId));
        Assert.Equal(0, admissions.HeldLeases);
        var db = Admin.GetDatabase();
        // A read on the admin connection does not send the gateway's queued releases: they go before they are cleared.
        Assert.True(await Poll.UntilAsync(async () => await db.SortedSetLengthAsync(Prefix + "cc:" + names.KeySet) == 0));
        await db.KeyDeleteAsync([Prefix + "cc:" + names.KeySet, Prefix + "cc:" + names.DeploymentSet, Prefix + "budget:reserved:" + names.Counter,
            Prefix + "rl:" + names.KeyBucket]);
    }



    /// <summary>One test's key (a bucket and a calls-in-flight set), deployment set and budget counter.</summary>
    private sealed class Names
    {
        private readonly string _id = Guid.NewGuid().ToString("N");

        public string KeyBucket => "key:" + _id;

        public string KeySet => "key-set:" + _id;

        public string DeploymentSet => "deployment-set:" + _id;

        public string Counter => "counter:" + _id;

        /// <summary>A key with 1,000 requests a minute and 100 in flight, a budget of $100, a deployment with 100 in flight.</summary>
        public AdmissionRequest Request()
        {
            var now = DateTimeOffset.UtcNow;
            return new AdmissionRequest
            {
                KeyId = "key-" + _id,
                Key = new BucketTake(KeyBucket, new RateLimitSettings(1000, null, 100, TimeSpan.Zero), 0, KeySet, 100),
                Budget = new BudgetTake(Guid.NewGuid().ToString("N"), [new BudgetCounter(Counter, 100m)], 0.01m, now, now.AddMinutes(5)),
                Deployment = new BucketTake("unlimited", new RateLimitSettings(null, null, 100, TimeSpan.Zero), 0, DeploymentSet, 100),
            };
        }
    }
}
