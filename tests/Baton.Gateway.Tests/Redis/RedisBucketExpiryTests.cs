using Baton.Gateway.Tests.TestSupport;
using Baton.RateLimiting;
using Baton.Redis;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// A bucket in Redis lives at least 120 s after its last save (then it is full again), while its expiry is pushed back
/// at most once a second: a busy bucket's saves cost no expiry command each.
/// </summary>
public sealed class RedisBucketExpiryTests(RedisServer server) : RedisServerTests(server)
{
    private static readonly RateLimitSettings Limits = new(600, 60_000, null, TimeSpan.Zero);



    [Fact]
    public async Task A_saved_bucket_expires_no_sooner_than_120_s_after_its_save()
    {
        var (store, key) = Bucket();

        Assert.True((await store.TryTakeAsync("b", Limits, 10)).Granted);

        Assert.InRange(await TtlAsync(key), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(121));
    }

    [Fact]
    public async Task A_save_within_a_second_of_the_last_push_back_leaves_the_expiry_alone()
    {
        var (store, key) = Bucket();
        Assert.True((await store.TryTakeAsync("b", Limits, 10)).Granted);
        // Marked so that a push back would show: the saves below must not bring it down to 121 s.
        await Admin.GetDatabase().KeyExpireAsync(key, TimeSpan.FromSeconds(500));

        Assert.True((await store.TryTakeAsync("b", Limits, 10)).Granted);
        await store.ChargeAsync("b", Limits, 0, 5);
        await store.LowerToAsync("b", Limits, 500, null);

        Assert.InRange(await TtlAsync(key), TimeSpan.FromSeconds(490), TimeSpan.FromSeconds(500));
    }

    [Fact]
    public async Task A_save_more_than_a_second_after_the_last_push_back_pushes_it_back()
    {
        var (store, key) = Bucket();
        Assert.True((await store.TryTakeAsync("b", Limits, 10)).Granted);
        var db = Admin.GetDatabase();
        // As if the last push back were two seconds ago, with the expiry it gave then.
        var pushed = long.Parse((string)(await db.HashGetAsync(key, "e"))!, System.Globalization.CultureInfo.InvariantCulture);
        await db.HashSetAsync(key, "e", pushed - 2_000_000);
        await db.KeyExpireAsync(key, TimeSpan.FromSeconds(119));

        Assert.True((await store.TryTakeAsync("b", Limits, 10)).Granted);

        Assert.InRange(await TtlAsync(key), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(121));
    }

    [Fact]
    public async Task A_pause_pushes_the_expiry_back_past_its_end_at_once()
    {
        var (store, key) = Bucket();
        Assert.True((await store.TryTakeAsync("b", Limits, 10)).Granted);

        await store.PauseUntilAsync("b", Limits, DateTimeOffset.UtcNow.AddSeconds(300));

        Assert.InRange(await TtlAsync(key), TimeSpan.FromSeconds(415), TimeSpan.FromSeconds(421));
    }

    private (RedisRateLimitStore Store, RedisKey Key) Bucket()
    {
        var connection = Views.Connect();
        return (new RedisRateLimitStore(connection, TimeProvider.System), connection.Prefix + "rl:b");
    }

    private async Task<TimeSpan> TtlAsync(RedisKey key) => (await Admin.GetDatabase().KeyTimeToLiveAsync(key))!.Value;
}
