using Baton.Auth;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// Key changes announced to every gateway instance through Redis pub/sub: an instance that updates or revokes a
/// key publishes, and every instance drops its cache of keys, so the next request it serves reads the shared key
/// store again and a revoked key is refused there too. A revocation is also recorded in Redis, where every
/// admission script checks it (<see cref="RedisAdmissionStore"/>), before it is published: a request admitted on any
/// instance after the revocation is refused even if the message has not arrived yet.
/// </summary>
/// <remarks>
/// The record is only needed until every instance has dropped what it cached about the key: after that, the key
/// store itself refuses the key. A message can be missed (pub/sub keeps nothing for a connection that is down), so
/// an instance also drops its cache when its connection to Redis comes back and at least every
/// <see cref="KeyStateMaxAge"/>; a revocation is kept for <see cref="RevocationRetention"/>, far longer, and then
/// dropped, so the record holds only recent revocations instead of growing for ever. It is a sorted set of key ids
/// scored by the revocation's time on the Redis server's clock: each revocation drops the entries older than the
/// retention, and the set expires one retention after the last revocation.
/// </remarks>
public sealed class RedisKeyChangeFeed : IKeyChangeFeed, IDisposable
{
    /// <summary>The longest an instance keeps what it read about a key, even when it hears of no change.</summary>
    public static readonly TimeSpan KeyStateMaxAge = TimeSpan.FromMinutes(5);

    /// <summary>How long a revocation stays in Redis for the admission scripts: many times <see cref="KeyStateMaxAge"/>.</summary>
    public static readonly TimeSpan RevocationRetention = TimeSpan.FromHours(1);

    // KEYS[1] the revocations, ARGV[1] the key id, ARGV[2] the retention (ms).
    private const string RevokeScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local keep = tonumber(ARGV[2])
        redis.call('ZADD', KEYS[1], now, ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - keep))
        redis.call('PEXPIRE', KEYS[1], keep)
        return redis.call('ZCARD', KEYS[1])
        """;

    private readonly RedisConnection _redis;
    private readonly TimeProvider _time;
    private readonly RedisChannel _channel;
    private readonly List<ITimer> _timers = [];

    /// <summary>Key changes on <paramref name="redis"/>; <paramref name="time"/> (the system clock by default) paces <see cref="KeyStateMaxAge"/>.</summary>
    public RedisKeyChangeFeed(RedisConnection redis, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _time = time ?? TimeProvider.System;
        _channel = redis.Channel("keys");
    }

    /// <inheritdoc />
    public async ValueTask AnnounceAsync(CancellationToken cancellationToken) =>
        await _redis.TryAsync("keys.announce", _ => _redis.Subscriber.PublishAsync(_channel, "changed")).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask AnnounceRevokedAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        await _redis.TryAsync("keys.revoke", db => db.ScriptEvaluateAsync(RevokeScript, [RedisAdmissionStore.RevokedKey(_redis)],
            [keyId, (long)RevocationRetention.TotalMilliseconds])).ConfigureAwait(false);
        await AnnounceAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Subscribe(Action onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        // Messages published before the subscription was in place, or while the connection was down, are lost: whatever
        // they said, the cache is dropped then.
        _redis.Subscribe("keys.changes", _channel, (_, _) => onChange(), catchUp: _ =>
        {
            onChange();
            return Task.CompletedTask;
        });
        var timer = _time.CreateTimer(static state => ((Action)state!)(), onChange, KeyStateMaxAge, KeyStateMaxAge);
        lock (_timers)
        {
            _timers.Add(timer);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_timers)
        {
            _timers.ForEach(t => t.Dispose());
            _timers.Clear();
        }
    }
}
