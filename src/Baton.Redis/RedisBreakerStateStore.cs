using System.Collections.Concurrent;
using System.Globalization;
using Baton.Resilience;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// Circuit breakers shared through Redis pub/sub: an instance whose breaker opens publishes the break, and every
/// instance (itself included) records it in a local view that <see cref="OpenUntil"/> reads without a round
/// trip. A break travels as its remaining duration, so instances' clocks need not agree; it reaches the
/// others in milliseconds. The latest breaks are also kept in a Redis hash, read when an instance starts (and when
/// its connection comes back), so that one started during a break does not call the broken deployment either.
/// </summary>
public sealed class RedisBreakerStateStore : IBreakerStateStore
{
    private readonly RedisConnection _redis;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _openUntil = new(StringComparer.OrdinalIgnoreCase);
    private readonly RedisChannel _channel;
    private readonly RedisKey _breaks;

    /// <summary>Subscribes to the breakers' channel of <paramref name="redis"/>.</summary>
    public RedisBreakerStateStore(RedisConnection redis, TimeProvider time)
    {
        _redis = redis;
        _time = time;
        _channel = redis.Channel("breakers");
        _breaks = redis.Key("breakers");
        redis.Subscribe("breakers", _channel, (_, message) => Receive(message), caughtUp: () => _ = LoadAsync());
    }

    /// <inheritdoc />
    public DateTimeOffset? OpenUntil(string deployment) =>
        _openUntil.TryGetValue(deployment, out var until) && until > _time.GetUtcNow() ? until : null;

    /// <inheritdoc />
    public void ReportOpened(string deployment, DateTimeOffset until)
    {
        Record(deployment, until);
        var remaining = (long)Math.Max(0, (until - _time.GetUtcNow()).TotalMilliseconds);
        _ = _redis.TryAsync("breaker.open", async db =>
        {
            var expires = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + remaining;
            await db.HashSetAsync(_breaks, deployment, expires).ConfigureAwait(false);
            await _redis.Subscriber.PublishAsync(_channel, $"open {remaining.ToString(CultureInfo.InvariantCulture)} {deployment}").ConfigureAwait(false);
        });
    }

    /// <inheritdoc />
    public void ReportClosed(string deployment)
    {
        _openUntil.TryRemove(deployment, out _);
        _ = _redis.TryAsync("breaker.close", async db =>
        {
            await db.HashDeleteAsync(_breaks, deployment).ConfigureAwait(false);
            await _redis.Subscriber.PublishAsync(_channel, "close 0 " + deployment).ConfigureAwait(false);
        });
    }

    private void Receive(RedisValue message)
    {
        var text = (string?)message;
        var parts = text?.Split(' ', 3);
        if (parts is not { Length: 3 } || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var remaining))
        {
            return;
        }
        if (parts[0] == "open")
        {
            Record(parts[2], _time.GetUtcNow() + TimeSpan.FromMilliseconds(remaining));
        }
        else if (parts[0] == "close")
        {
            _openUntil.TryRemove(parts[2], out _);
        }
    }

    private void Record(string deployment, DateTimeOffset until) =>
        _openUntil.AddOrUpdate(deployment, until, (_, current) => until > current ? until : current);

    /// <summary>
    /// Breaks opened before this instance started, or while its connection was down (wall-clock expiry: this is not on
    /// a request's path). Read once the subscription is in place: a break opened meanwhile is either in the hash read
    /// here or announced on the channel, never lost between the two. A close announced while the connection was down
    /// is not read back: the break then lasts here until it expires, as if it had not closed.
    /// </summary>
    private Task LoadAsync() => _redis.TryAsync("breaker.load", async db =>
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var entry in await db.HashGetAllAsync(_breaks).ConfigureAwait(false))
        {
            if ((long)entry.Value > now)
            {
                Record(entry.Name!, _time.GetUtcNow() + TimeSpan.FromMilliseconds((long)entry.Value - now));
            }
        }
    });
}
