using System.Buffers.Binary;
using System.Text;
using Baton.Caching;
using Baton.Providers;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// The response cache shared by every gateway instance, with an in-process first level: a hit on this instance's
/// memory costs no round trip, a miss there asks Redis once, and an answer found in Redis is kept in memory for
/// the next time. An answer is written to memory at once and to Redis behind the response, with a Redis TTL equal
/// to its own expiry. A purge is published, so every instance empties its first level too. The size cap
/// (<c>cache.maxBytes</c>) bounds the first level and each answer; Redis's own memory is bounded by its TTLs (and
/// its <c>maxmemory</c> policy). When Redis is unavailable, the first level alone serves (<c>local</c>) or the
/// request is refused with 503 (<c>closed</c>).
/// </summary>
public sealed class RedisCacheStore : ICacheStore, IHoldsAnswers
{
    // KEYS: index. ARGV: model filter ('' = all), prefix of entry keys. Deletes the entries whose model matches (or
    // all) and returns how many existed.
    private const string PurgeScript = """
        local entries = redis.call('HGETALL', KEYS[1])
        local deleted = 0
        for j = 1, #entries, 2 do
          local sep = string.find(entries[j + 1], ' ', 1, true)
          local model = string.sub(entries[j + 1], sep + 1)
          if ARGV[1] == '' or model == ARGV[1] then
            deleted = deleted + redis.call('DEL', ARGV[2] .. entries[j])
            redis.call('HDEL', KEYS[1], entries[j])
          end
        end
        return deleted
        """;

    // KEYS: index. ARGV: prefix of entry keys. Drops index entries whose answer has expired; returns entries and bytes.
    private const string SizeScript = """
        local entries = redis.call('HGETALL', KEYS[1])
        local count = 0
        local bytes = 0
        for j = 1, #entries, 2 do
          if redis.call('EXISTS', ARGV[1] .. entries[j]) == 1 then
            count = count + 1
            local sep = string.find(entries[j + 1], ' ', 1, true)
            bytes = bytes + tonumber(string.sub(entries[j + 1], 1, sep - 1))
          else
            redis.call('HDEL', KEYS[1], entries[j])
          end
        end
        return {count, bytes}
        """;

    private readonly RedisConnection _redis;
    private readonly MemoryCacheStore _first;
    private readonly TimeProvider _time;
    private readonly long _maxBytes;
    private readonly RedisKey _index;
    private readonly string _entryPrefix;
    private readonly RedisChannel _purges;

    // The answers of the first level that Redis is known to hold (this instance wrote them, or read them from there):
    // only those may stand for an identical answer being saved. Weak, so that an answer the first level drops goes.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<CachedAnswer, object> _inRedis = [];

    /// <summary>The cache on <paramref name="redis"/>, with a first level of at most <paramref name="maxBytes"/> in memory.</summary>
    public RedisCacheStore(RedisConnection redis, long maxBytes, TimeProvider time)
    {
        _redis = redis;
        _time = time;
        _maxBytes = maxBytes;
        _first = new MemoryCacheStore(maxBytes, time);
        _index = redis.Key("cache:index");
        _entryPrefix = redis.Prefix + "cache:entry:";
        _purges = redis.Channel("cache:purge");
        // A purge announced before the subscription was in place, or while the connection was down, is never heard:
        // the first level is dropped then (what it held is read again from Redis, which the purge did reach).
        redis.Subscribe("cache.purges", _purges, (_, message) =>
        {
            var model = (string?)message;
            _first.Purge(string.IsNullOrEmpty(model) ? null : model);
        }, catchUp: _ =>
        {
            _first.Purge(null);
            return Task.CompletedTask;
        });
    }

    /// <inheritdoc />
    public async ValueTask<CachedAnswer?> FindAsync(string key, CancellationToken cancellationToken = default)
    {
        if (_first.Find(key) is { } hit)
        {
            return hit;
        }
        var found = await _redis.RunAsync("cache.find", async db =>
        {
            var value = await db.StringGetAsync(_entryPrefix + key).ConfigureAwait(false);
            return value.IsNull ? null : Decode(key, (byte[])value!);
        }, static () => ValueTask.FromResult<CachedAnswer?>(null), cancellationToken).ConfigureAwait(false);
        if (found is null || found.Expires <= _time.GetUtcNow())
        {
            return null;
        }
        _first.Save(found);
        _inRedis.AddOrUpdate(found, found);
        return found;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The first level's answer stands for the one being saved (see <see cref="IHoldsAnswers"/>) only when Redis is
    /// known to hold it too, under the same expiry: then the save would rewrite the same entry and only push back an
    /// expiry that is still at least half the new one away, as the embedded stores decide. An answer whose write
    /// Redis did not take (an outage, fail mode <c>local</c>) is written again by the next save.
    /// </remarks>
    CachedAnswer? IHoldsAnswers.FindEquivalent(string key, string model, string deployment, ReadOnlySpan<byte> body, TokenUsage usage,
        DateTimeOffset now, DateTimeOffset expires) =>
        ((IHoldsAnswers)_first).FindEquivalent(key, model, deployment, body, usage, now, expires) is { } held && _inRedis.TryGetValue(held, out _)
            ? held
            : null;

    /// <inheritdoc />
    public async ValueTask SaveAsync(CachedAnswer answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.Size > _maxBytes)
        {
            return;
        }
        _first.Save(answer);
        var ttl = answer.Expires - _time.GetUtcNow();
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }
        // Queued with the writes behind responses (one script for many), entry and index line together, as a
        // transaction wrote them; the task completes when Redis has answered.
        var written = true;
        await _redis.Writes.Cache(_entryPrefix + answer.Key, _index, Encode(answer), Math.Max(1, (long)ttl.TotalMilliseconds),
            answer.Key, answer.Size, answer.Model.ToLowerInvariant(), () => written = false).ConfigureAwait(false);
        if (written)
        {
            _inRedis.AddOrUpdate(answer, answer);
        }
    }

    /// <inheritdoc />
    public async ValueTask<long> PurgeAsync(string? model = null, CancellationToken cancellationToken = default)
    {
        var local = _first.Purge(model);
        var filter = model?.ToLowerInvariant() ?? "";
        return await _redis.RunAsync("cache.purge", async db =>
        {
            var deleted = (long)(await db.ScriptEvaluateAsync(PurgeScript, [_index], [filter, _entryPrefix]).ConfigureAwait(false));
            await _redis.Subscriber.PublishAsync(_purges, filter).ConfigureAwait(false);
            return deleted;
        }, () => ValueTask.FromResult(local), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken = default) =>
        _redis.RunAsync("cache.size", async db =>
        {
            var reply = (RedisResult[])(await db.ScriptEvaluateAsync(SizeScript, [_index], [_entryPrefix]).ConfigureAwait(false))!;
            return ((long)reply[0], (long)reply[1]);
        }, () => ValueTask.FromResult(_first.Size()), cancellationToken);

    /// <summary>Writes are sent as they are saved; Redis has them once sent.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public void Dispose() => _first.Dispose();

    /// <summary>
    /// An answer as one Redis string: the usage and dates as fixed-size integers, the model and deployment as
    /// length-prefixed UTF-8, then the body as it is (the bytes served on a hit).
    /// </summary>
    internal static byte[] Encode(CachedAnswer answer)
    {
        var model = Encoding.UTF8.GetBytes(answer.Model);
        var deployment = Encoding.UTF8.GetBytes(answer.Deployment);
        var buffer = new byte[HeaderSize + model.Length + deployment.Length + answer.Body.Length];
        var span = buffer.AsSpan();
        var u = answer.Usage;
        BinaryPrimitives.WriteInt32LittleEndian(span, u.PromptTokens);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], u.CompletionTokens);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], u.TotalTokens);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], u.CachedPromptTokens);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], u.ReasoningTokens);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], u.CacheWritePromptTokens);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], answer.Created.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], answer.Expires.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], model.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[44..], deployment.Length);
        model.CopyTo(span[HeaderSize..]);
        deployment.CopyTo(span[(HeaderSize + model.Length)..]);
        answer.Body.CopyTo(span[(HeaderSize + model.Length + deployment.Length)..]);
        return buffer;
    }

    internal static CachedAnswer? Decode(string key, byte[] value)
    {
        if (value.Length < HeaderSize)
        {
            return null;
        }
        var span = value.AsSpan();
        var modelLength = BinaryPrimitives.ReadInt32LittleEndian(span[40..]);
        var deploymentLength = BinaryPrimitives.ReadInt32LittleEndian(span[44..]);
        if (modelLength < 0 || deploymentLength < 0 || HeaderSize + modelLength + deploymentLength > value.Length)
        {
            return null;
        }
        var usage = new TokenUsage(
            BinaryPrimitives.ReadInt32LittleEndian(span),
            BinaryPrimitives.ReadInt32LittleEndian(span[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[12..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[20..]));
        var model = Encoding.UTF8.GetString(span.Slice(HeaderSize, modelLength));
        var deployment = Encoding.UTF8.GetString(span.Slice(HeaderSize + modelLength, deploymentLength));
        var body = span[(HeaderSize + modelLength + deploymentLength)..].ToArray();
        return new CachedAnswer(key, model, deployment, body, usage,
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[24..])),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[32..])));
    }

    private const int HeaderSize = 48;
}
