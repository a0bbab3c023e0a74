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
/// its connection comes back), so that one started during a break does not call the broken deployment either, and
/// one that was away learns of the breaks closed meanwhile and tells of those it opened.
/// </summary>
public sealed class RedisBreakerStateStore : IBreakerStateStore
{
    private readonly RedisConnection _redis;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Break> _openUntil = new(StringComparer.OrdinalIgnoreCase);
    // Breaks this instance opened that Redis has not stored yet (its connection was down): told once it is back.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _untold = new(StringComparer.OrdinalIgnoreCase);
    private readonly RedisChannel _channel;
    private readonly RedisKey _breaks;
    private long _recorded;

    /// <summary>Subscribes to the breakers' channel of <paramref name="redis"/>.</summary>
    public RedisBreakerStateStore(RedisConnection redis, TimeProvider time)
    {
        _redis = redis;
        _time = time;
        _channel = redis.Channel("breakers");
        _breaks = redis.Key("breakers");
        redis.Subscribe("breakers", _channel, (_, message) => Receive(message), catchUp: LoadAsync);
    }

    /// <inheritdoc />
    public DateTimeOffset? OpenUntil(string deployment) =>
        _openUntil.TryGetValue(deployment, out var open) && open.Until > _time.GetUtcNow() ? open.Until : null;

    /// <summary>Whether this instance opened a break that Redis has not been told of yet (stored and announced).</summary>
    internal bool IsUntold(string deployment) => _untold.ContainsKey(deployment);

    /// <inheritdoc />
    public void ReportOpened(string deployment, DateTimeOffset until)
    {
        Record(deployment, until);
        _untold[deployment] = until;
        _ = _redis.TryAsync("breaker.open", db => TellAsync(db, deployment, until));
    }

    /// <summary>Stores and announces a break this instance opened; once Redis has it, it is no longer untold.</summary>
    private async Task TellAsync(IDatabase db, string deployment, DateTimeOffset until)
    {
        var remaining = (long)Math.Max(0, (until - _time.GetUtcNow()).TotalMilliseconds);
        var expires = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + remaining;
        await db.HashSetAsync(_breaks, deployment, expires).ConfigureAwait(false);
        await _redis.Subscriber.PublishAsync(_channel, $"open {remaining.ToString(CultureInfo.InvariantCulture)} {deployment}").ConfigureAwait(false);
        _untold.TryRemove(new KeyValuePair<string, DateTimeOffset>(deployment, until));
    }

    /// <inheritdoc />
    public void ReportClosed(string deployment)
    {
        _openUntil.TryRemove(deployment, out _);
        _untold.TryRemove(deployment, out _);
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
            _untold.TryRemove(parts[2], out _);
        }
    }

    private void Record(string deployment, DateTimeOffset until)
    {
        var recorded = Interlocked.Increment(ref _recorded);
        _openUntil.AddOrUpdate(deployment, new Break(until, recorded), (_, current) => new Break(until > current.Until ? until : current.Until, recorded));
    }

    /// <summary>
    /// Catches up with what was said while this instance was not listening (wall-clock expiry: this is not on a
    /// request's path), once the subscription is in place: at start, and each time the connection comes back.
    /// </summary>
    /// <remarks>
    /// The hash holds every break still open. Those it lists are recorded: opened before this instance started, or while
    /// its connection was down. A break recorded here that it does not list was closed (or has expired) meanwhile, and
    /// is dropped, unless it was recorded after the hash was asked for (its announcement may have overtaken the read) or
    /// this instance opened it while Redis could not be told, in which case it is told now. A load that fails part way
    /// (Redis stopped answering) is tried again whole (<see cref="RedisConnection.Subscribe"/>).
    /// </remarks>
    private async Task LoadAsync(IDatabase db)
    {
        var asked = Interlocked.Read(ref _recorded);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var listed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in await db.HashGetAllAsync(_breaks).ConfigureAwait(false))
        {
            if ((long)entry.Value > now)
            {
                listed.Add(entry.Name!);
                Record(entry.Name!, _time.GetUtcNow() + TimeSpan.FromMilliseconds((long)entry.Value - now));
            }
        }
        foreach (var (deployment, open) in _openUntil)
        {
            if (listed.Contains(deployment) || open.Recorded > asked)
            {
                continue;
            }
            if (_untold.TryGetValue(deployment, out var until) && until > _time.GetUtcNow())
            {
                await TellAsync(db, deployment, until).ConfigureAwait(false);
            }
            else
            {
                _openUntil.TryRemove(new KeyValuePair<string, Break>(deployment, open));
                _untold.TryRemove(deployment, out _);
            }
        }
    }

    /// <summary>A break as this instance knows it: until when, and the order in which it was last recorded.</summary>
    private readonly record struct Break(DateTimeOffset Until, long Recorded);
}
