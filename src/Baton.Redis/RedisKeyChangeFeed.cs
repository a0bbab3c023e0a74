using Baton.Auth;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// Key changes announced to every gateway instance through Redis pub/sub: an instance that updates or revokes a
/// key publishes, and every instance drops its cache of keys, so the next request it serves reads the shared key
/// store again and a revoked key is refused there too. A revocation is also added to a set that every admission
/// script checks (<see cref="RedisAdmissionStore"/>), before it is published: a request admitted on any instance
/// after the revocation is refused even if the message has not arrived yet.
/// </summary>
public sealed class RedisKeyChangeFeed(RedisConnection redis) : IKeyChangeFeed
{
    private readonly RedisChannel _channel = redis.Channel("keys");

    /// <inheritdoc />
    public async ValueTask AnnounceAsync(CancellationToken cancellationToken) =>
        await redis.TryAsync("keys.announce", _ => redis.Subscriber.PublishAsync(_channel, "changed")).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask AnnounceRevokedAsync(string keyId, CancellationToken cancellationToken)
    {
        await redis.TryAsync("keys.revoke", db => db.SetAddAsync(RedisAdmissionStore.RevokedKey(redis), keyId)).ConfigureAwait(false);
        await AnnounceAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Subscribe(Action onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        redis.Subscribe("keys.changes", _channel, (_, _) => onChange());
    }
}
