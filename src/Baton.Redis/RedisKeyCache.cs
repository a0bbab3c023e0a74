using System.Collections.Concurrent;
using System.Text;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// The Redis keys of one kind (<c>rl:</c> buckets, <c>cc:</c> calls in flight, budget counters), made once per name
/// and kept encoded, rather than concatenated and encoded again on every request. Names are a gateway's keys,
/// deployments and budget counters, so few; the cache is emptied if it ever holds more than <see cref="Capacity"/>.
/// </summary>
internal sealed class RedisKeyCache(RedisConnection redis, string kind)
{
    internal const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, RedisKey> _keys = new(StringComparer.Ordinal);

    /// <summary>The key of <paramref name="name"/>: the connection's prefix, the kind, the name.</summary>
    public RedisKey this[string name] => _keys.TryGetValue(name, out var key) ? key : Add(name);

    private RedisKey Add(string name)
    {
        if (_keys.Count >= Capacity)
        {
            _keys.Clear();
        }
        RedisKey key = Encoding.UTF8.GetBytes(redis.Prefix + kind + name);
        _keys[name] = key;
        return key;
    }
}
