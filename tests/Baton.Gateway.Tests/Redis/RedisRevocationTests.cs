using Baton.Admission;
using Baton.Gateway.Tests.TestSupport;
using Baton.RateLimiting;
using Baton.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// Revocations recorded in Redis for the admission scripts are kept only as long as some gateway may still hold what
/// it read about the key before: the record stays bounded however many keys are revoked over time.
/// </summary>
public sealed class RedisRevocationTests(RedisServer server) : RedisServerTests(server)
{
    [Fact]
    public async Task A_revocation_is_refused_by_every_admission_and_revocations_older_than_the_retention_are_dropped()
    {
        var connection = Views.Connect();
        using var feed = new RedisKeyChangeFeed(connection);
        using var admissions = new RedisAdmissionStore(connection, null, NullLogger<RedisAdmissionStore>.Instance);
        var db = Admin.GetDatabase();
        RedisKey revocations = connection.Prefix + "keys:revocations";
        var retention = (long)RedisKeyChangeFeed.RevocationRetention.TotalMilliseconds;
        // A revocation from longer ago than the retention (on Redis's clock, as the script dates them).
        var now = (long)(await Control().TimeAsync() - DateTime.UnixEpoch).TotalMilliseconds;
        await db.SortedSetAddAsync(revocations, "ancient", now - retention - 60_000);
        await db.SortedSetAddAsync(revocations, "recent", now - 60_000);

        await feed.AnnounceRevokedAsync("fresh", CancellationToken.None);

        // The fresh one and the recent one are kept, the ancient one is gone, and the record expires with the retention.
        Assert.Equal(new[] { "fresh", "recent" }, (await db.SortedSetRangeByRankAsync(revocations)).Select(v => (string)v!).Order(StringComparer.Ordinal));
        var ttl = (await db.KeyTimeToLiveAsync(revocations))!.Value;
        Assert.InRange(ttl, RedisKeyChangeFeed.RevocationRetention - TimeSpan.FromMinutes(1), RedisKeyChangeFeed.RevocationRetention);
        Assert.Equal(AdmissionStage.Revoked, (await admissions.TryAdmitAsync(Request("fresh"), CancellationToken.None))!.Stage);
        Assert.Equal(AdmissionStage.Revoked, (await admissions.TryAdmitAsync(Request("recent"), CancellationToken.None))!.Stage);
        Assert.Equal(AdmissionStage.Admitted, (await admissions.TryAdmitAsync(Request("never-revoked"), CancellationToken.None))!.Stage);
    }

    [Fact]
    public async Task A_gateway_forgets_what_it_read_about_keys_at_least_every_max_age_even_without_news()
    {
        var time = new FakeTimeProvider();
        var connection = Views.Connect();
        using var feed = new RedisKeyChangeFeed(connection, time);
        var forgotten = 0;
        feed.Subscribe(() => Interlocked.Increment(ref forgotten));
        // The feed also forgets once its subscription is in place (on Redis's time, not the fake clock): counted from then.
        Assert.True(await Poll.UntilAsync(() => connection.CatchUps >= 1 && Volatile.Read(ref forgotten) >= 1));
        var caughtUp = Volatile.Read(ref forgotten);

        time.Advance(RedisKeyChangeFeed.KeyStateMaxAge - TimeSpan.FromSeconds(1));
        Assert.Equal(caughtUp, forgotten);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(caughtUp + 1, forgotten);
        time.Advance(RedisKeyChangeFeed.KeyStateMaxAge);
        Assert.Equal(caughtUp + 2, forgotten);
        // The retention is what makes this safe: many times the longest a gateway keeps a key's state.
        Assert.True(RedisKeyChangeFeed.RevocationRetention >= 10 * RedisKeyChangeFeed.KeyStateMaxAge);
    }

    /// <summary>An admission of a key without limits (only its revocation is checked).</summary>
    private static AdmissionRequest Request(string keyId) => new()
    {
        KeyId = keyId,
        Deployment = new BucketTake("unlimited", new RateLimitSettings(null, null, null, TimeSpan.Zero), 0, "revocations:" + keyId, null),
    };
}
