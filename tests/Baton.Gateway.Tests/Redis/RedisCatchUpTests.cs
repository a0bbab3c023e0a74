using Baton.Caching;
using Baton.Gateway.Tests.TestSupport;
using Baton.Providers;
using Baton.Redis;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// An announcement on a channel is lost for an instance that is not subscribed when it is published: before its
/// SUBSCRIBE lands, or while its connection is down. Once the subscription is in place again, the instance catches up:
/// it drops what such an announcement would have dropped (keys, the cache's first level) and reads again what it would
/// have told (the open breaks, and those closed meanwhile). The tests kill the subscription connections of a server of
/// their class's own.
/// </summary>
public sealed class RedisCatchUpTests(RedisServer server) : RedisServerTests(server)
{
    [Fact]
    public async Task A_cache_first_level_is_dropped_when_its_subscription_comes_back()
    {
        var connection = Views.Connect();
        using var store = new RedisCacheStore(connection, 1 << 20, TimeProvider.System);
        // The store caught up once its subscription was in place (dropping a first level that was empty then).
        Assert.True(await Poll.UntilAsync(() => connection.CatchUps >= 1));
        var key = "catch-up:" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        await store.SaveAsync(new CachedAnswer(key, "m", "p/m", [1, 2, 3], TokenUsage.Of(10, 5), now, now.AddMinutes(10)));
        RedisKey entry = connection.Prefix + "cache:entry:" + key;
        var db = Admin.GetDatabase();
        Assert.True(await Poll.UntilAsync(() => db.KeyExistsAsync(entry)));

        // Purged in Redis by an instance whose announcement this one does not hear: its first level still answers.
        await db.KeyDeleteAsync(entry);
        Assert.NotNull(await store.FindAsync(key));

        // Once its subscription is back in place, the first level is dropped and the answer read from Redis: gone.
        await Control().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True(await Poll.UntilAsync(async () => await store.FindAsync(key) is null));
    }

    [Fact]
    public async Task A_key_change_feed_drops_the_keys_once_subscribed_and_again_when_its_subscription_comes_back()
    {
        using var feed = new RedisKeyChangeFeed(Views.Connect());
        var drops = 0;
        feed.Subscribe(() => Interlocked.Increment(ref drops));

        // Keys read before the subscription was in place may have changed unannounced: dropped once it is.
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref drops) == 1));

        await Control().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref drops) >= 2));
    }

    [Fact]
    public async Task Breakers_read_the_breaks_stored_while_their_subscription_was_down()
    {
        var (connection, breakers) = await BreakersAsync();
        var deployment = "catch-up/" + Guid.NewGuid().ToString("N");

        // A break another instance stored, whose announcement this one never heard.
        var until = DateTimeOffset.UtcNow.AddMinutes(1);
        await Admin.GetDatabase().HashSetAsync(connection.Prefix + "breakers", deployment, until.ToUnixTimeMilliseconds());
        Assert.Null(breakers.OpenUntil(deployment));

        await Control().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True(await Poll.UntilAsync(() => breakers.OpenUntil(deployment) is not null));
    }

    [Fact]
    public async Task Breakers_drop_a_break_closed_while_their_subscription_was_down()
    {
        var (connection, breakers) = await BreakersAsync();
        var deployment = "closed/" + Guid.NewGuid().ToString("N");
        var db = Admin.GetDatabase();
        RedisKey breaks = connection.Prefix + "breakers";

        // Another instance's break, stored and announced: heard here.
        await db.HashSetAsync(breaks, deployment, DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
        await Admin.GetSubscriber().PublishAsync(RedisChannel.Literal(connection.Prefix + "breakers"), "open 60000 " + deployment);
        Assert.True(await Poll.UntilAsync(() => breakers.OpenUntil(deployment) is not null));

        // Closed by it while this one was not listening: the stored break is gone, the announcement never came.
        await db.HashDeleteAsync(breaks, deployment);
        Assert.NotNull(breakers.OpenUntil(deployment));

        var caughtUp = connection.CatchUps;
        await Control().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True(await Poll.UntilAsync(() => connection.CatchUps > caughtUp));
        Assert.Null(breakers.OpenUntil(deployment));
    }

    [Fact]
    public async Task A_catch_up_that_fails_is_tried_again_until_it_succeeds()
    {
        var (connection, breakers) = await BreakersAsync();
        var deployment = "retried/" + Guid.NewGuid().ToString("N");
        var db = Admin.GetDatabase();
        RedisKey breaks = connection.Prefix + "breakers";

        // Redis refuses the breaks' reading (the key holds the wrong type): the catch-up after the subscription comes
        // back fails. It is no call served from the gateway's own state, so no fallback is counted.
        await db.StringSetAsync(breaks, "not a hash");
        var caughtUp = connection.CatchUps;
        var failures = connection.CatchUpFailures;
        var fallbacks = connection.FallbackCount;
        await Control().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True(await Poll.UntilAsync(() => connection.CatchUpFailures > failures));
        Assert.Equal(caughtUp, connection.CatchUps);
        Assert.Equal(fallbacks, connection.FallbackCount);

        // Once Redis holds the breaks again, the catch-up is tried again, with no connection coming back, and reads them.
        await db.KeyDeleteAsync(breaks);
        await db.HashSetAsync(breaks, deployment, DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
        Assert.True(await Poll.UntilAsync(() => breakers.OpenUntil(deployment) is not null));
        Assert.Equal(caughtUp + 1, connection.CatchUps);
    }

    [Fact]
    public async Task A_break_opened_while_redis_was_down_is_told_when_it_is_back_and_one_the_restarted_redis_forgot_is_dropped()
    {
        var (connection, breakers) = await BreakersAsync();
        var told = "told/" + Guid.NewGuid().ToString("N");
        var untold = "untold/" + Guid.NewGuid().ToString("N");
        RedisKey breaks = connection.Prefix + "breakers";
        breakers.ReportOpened(told, DateTimeOffset.UtcNow.AddMinutes(1));
        // Told means stored and announced: a server stopped between the two leaves the break untold, to tell again.
        Assert.True(await Poll.UntilAsync(() => !breakers.IsUntold(told)));
        Assert.True(await StoredAsync(breaks, told));

        await Server.StopAsync();
        try
        {
            Assert.True(await Poll.UntilAsync(() => !connection.IsConnected));
            breakers.ReportOpened(untold, DateTimeOffset.UtcNow.AddMinutes(1));
            Assert.NotNull(breakers.OpenUntil(untold));
        }
        finally
        {
            await Server.StartAsync();
        }

        // The restarted server holds nothing: the break opened while it was down is told again; the one told before
        // is no longer listed, as if it had been closed, and is dropped.
        Assert.True(await Poll.UntilAsync(() => StoredAsync(breaks, untold)));
        Assert.True(await Poll.UntilAsync(() => !breakers.IsUntold(untold)));
        Assert.NotNull(breakers.OpenUntil(untold));
        Assert.True(await Poll.UntilAsync(() => breakers.OpenUntil(told) is null));
    }

    /// <summary>A breakers' store on a connection of its own, once it has caught up the first time.</summary>
    private async Task<(RedisConnection Connection, RedisBreakerStateStore Breakers)> BreakersAsync()
    {
        var connection = Views.Connect();
        var breakers = new RedisBreakerStateStore(connection, TimeProvider.System);
        Assert.True(await Poll.UntilAsync(() => connection.CatchUps >= 1));
        return (connection, breakers);
    }

    /// <summary>Whether the hash has the field; false while the admin connection is still coming back after a restart.</summary>
    private async Task<bool> StoredAsync(RedisKey hash, string field)
    {
        try
        {
            return await Admin.GetDatabase().HashExistsAsync(hash, field);
        }
        catch (RedisException)
        {
            return false;
        }
    }
}
