using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// The writes made behind a response (token corrections, budget settlements, lease releases, cache writes), queued
/// and sent as one script per batch instead of one round trip each. A batch is sent as soon as a thread-pool thread
/// gets to it, and before any other command of this connection: commands on one connection run in the order sent,
/// so every read or admission this gateway makes after a write was queued sees it, exactly as when each write was
/// sent on its own. A batch is sent once and never again, whatever happens to it: a write that times out may still
/// have run, and sending it again could apply it twice. A batch that fails is applied to the gateway's own state
/// instead (fail mode <c>local</c>), as each write was.
/// </summary>
internal sealed class RedisWriteBehind : IThreadPoolWorkItem
{
    /// <summary>The most writes one script applies: Redis runs nothing else while a script runs.</summary>
    internal const int MaxWritesPerScript = 256;

    // The writes, one after another. ARGV holds each write's code and arguments, KEYS its keys, in the same order:
    // 'c' a bucket charge (1 key; rpm, tpm, requests, tokens: as RedisRateLimitStore's 'charge'), 's' a settlement
    // (2 keys per counter, spent then reservations; counters, reservation id, picodollars: as RedisBudgetStore's
    // settle), 'z' a lease release (1 key; lease id), 'w' a cache write (entry and index; value, ttl in ms, index
    // field, size, model). Redis does not undo a script's writes when it stops on an error, so each write runs on its
    // own (pcall): one that fails (a key of the wrong type, a counter that is not an integer) is skipped and the others
    // still apply. Each write reads and checks everything it touches before its first write, so a failing write has
    // written nothing. The releases of one lease set go together in one ZREM at the end (a set of the wrong type fails
    // them all, as it would each). Returns the position (from 0) and the error of each write that failed, in pairs:
    // those writes, and only those, the gateway applies to its own state, so that Redis and the gateway never both
    // apply a write.
    internal const string Script = RedisBucketScript.Prelude + "\n" + """
        local function charge(key, rpm, tpm, requests, tokens)
          local h = load(key)
          local r = level(rpm, h[1], h[2])
          local k = level(tpm, h[3], h[4])
          if r then r = math.min(rpm, r - requests) end
          if k then k = math.min(tpm, k - tokens) end
          save(key, r, k, tonumber(h[5] or '0'), h[6])
        end
        local function settle(first, counters, id, picos)
          for j = 0, counters - 1 do
            redis.call('HEXISTS', KEYS[first + 2 * j + 1], id)
            local spent = redis.call('GET', KEYS[first + 2 * j])
            if spent and not string.match(spent, '^%-?%d+$') then error('spent is not an integer') end
          end
          for j = 0, counters - 1 do
            redis.call('HDEL', KEYS[first + 2 * j + 1], id)
            if picos ~= '0' then
              redis.call('INCRBY', KEYS[first + 2 * j], picos)
            end
          end
        end
        local function cache(entry, index, value, ttl, field, line)
          -- The index first: of the two, only it can meet a key of the wrong type.
          redis.call('HSET', index, field, line)
          redis.call('SET', entry, value, 'PX', ttl)
        end
        local n = #ARGV
        local i = 1
        while i <= n do
          local op = ARGV[i]
          if op == 'c' then i = i + 5
          elseif op == 's' then i = i + 4
          elseif op == 'z' then i = i + 2
          elseif op == 'w' then i = i + 6
          else return redis.error_reply('unknown write ' .. tostring(op)) end
        end
        local failed = {}
        local function fail(w, err)
          failed[#failed + 1] = w
          failed[#failed + 1] = type(err) == 'table' and tostring(err.err) or tostring(err)
        end
        -- Releases are gathered by lease set and each set gets one ZREM at the end: no other write reads a lease set.
        local releases, releaseorder = {}, {}
        local k = 1
        local w = 0
        i = 1
        while i <= n do
          local op = ARGV[i]
          local ok, err = true, nil
          if op == 'c' then
            ok, err = pcall(charge, KEYS[k], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]))
            k = k + 1
            i = i + 5
          elseif op == 's' then
            local counters = tonumber(ARGV[i + 1])
            ok, err = pcall(settle, k, counters, ARGV[i + 2], ARGV[i + 3])
            k = k + 2 * counters
            i = i + 4
          elseif op == 'z' then
            local set = releases[KEYS[k]]
            if not set then
              set = {ids = {}, writes = {}}
              releases[KEYS[k]] = set
              releaseorder[#releaseorder + 1] = KEYS[k]
            end
            set.ids[#set.ids + 1] = ARGV[i + 1]
            set.writes[#set.writes + 1] = w
            k = k + 1
            i = i + 2
          else
            ok, err = pcall(cache, KEYS[k], KEYS[k + 1], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4] .. ' ' .. ARGV[i + 5])
            k = k + 2
            i = i + 6
          end
          if not ok then fail(w, err) end
          w = w + 1
        end
        for _, key in ipairs(releaseorder) do
          local set = releases[key]
          local ok, err = pcall(redis.call, 'ZREM', key, unpack(set.ids))
          if not ok then
            for _, at in ipairs(set.writes) do fail(at, err) end
          end
        end
        return failed
        """;

    // Redis names a script by the SHA-1 of its text: computed here, so no SCRIPT LOAD round trip is needed. A name,
    // not a security measure.
#pragma warning disable CA5350
    private static readonly byte[] Sha = SHA1.HashData(Encoding.UTF8.GetBytes(Script));
#pragma warning restore CA5350

    private static readonly RedisValue ChargeCode = "c";
    private static readonly RedisValue SettleCode = "s";
    private static readonly RedisValue ReleaseCode = "z";
    private static readonly RedisValue CacheCode = "w";

    private readonly RedisConnection _redis;
    private readonly Action<IThreadPoolWorkItem> _schedule;
    private readonly Lock _gate = new();
    private Batch _pending = new(new List<RedisKey>(16), new List<RedisValue>(32), []);
    private int _scheduled;
    private int _scriptKnown;
    private long _sent;

    public RedisWriteBehind(RedisConnection redis)
        : this(redis, static send => ThreadPool.UnsafeQueueUserWorkItem(send, preferLocal: false))
    {
    }

    /// <summary>With <paramref name="schedule"/> in place of the thread pool: a test sends the batch itself, when it chooses.</summary>
    internal RedisWriteBehind(RedisConnection redis, Action<IThreadPoolWorkItem> schedule)
    {
        _redis = redis;
        _schedule = schedule;
    }

    /// <summary>Scripts sent since start (each carrying one or more writes).</summary>
    public long ScriptsSent => Interlocked.Read(ref _sent);

    /// <summary>
    /// Queues a charge of a bucket (a token correction, a retry's request), and <paramref name="fallback"/> for when Redis
    /// cannot take it: made by the caller as one object, not a closure and its delegate.
    /// </summary>
    /// <remarks>
    /// A charge of a bucket the queued batch already charges, with the same limits, is added to that charge: the
    /// requests that share a key or a deployment correct the same buckets, and the script then reads and writes each
    /// bucket once per batch instead of once per request. The result is the same as the charges one after another in
    /// some order (those that take first, then those that give back, which is where the cap applies). When Redis
    /// refuses the combined charge, each charge in it falls back on its own.
    /// </remarks>
    public void Charge(RedisKey bucket, int? requestsPerMinute, int? tokensPerMinute, int requests, int tokens, PendingWrite fallback)
    {
        var charge = new BucketCharge(bucket, requestsPerMinute ?? -1, tokensPerMinute ?? -1);
        bool full;
        lock (_gate)
        {
            var batch = _pending;
            if (batch.Charges.TryGetValue(charge, out var queued))
            {
                // The batch is not sent yet, and its send is already on its way (see SendSoon).
                batch.Values[queued.Requests] = (long)batch.Values[queued.Requests] + requests;
                batch.Values[queued.Requests + 1] = (long)batch.Values[queued.Requests + 1] + tokens;
                batch.Writes[queued.Write] = CombinedWrite.Of(batch.Writes[queued.Write], fallback);
                return;
            }
            batch.Keys.Add(bucket);
            batch.Values.Add(ChargeCode);
            batch.Values.Add(charge.Rpm);
            batch.Values.Add(charge.Tpm);
            batch.Charges[charge] = (batch.Values.Count, batch.Writes.Count);
            batch.Values.Add((long)requests);
            batch.Values.Add((long)tokens);
            full = Queue(batch, fallback);
        }
        SendSoon(full);
    }

    /// <summary>Queues a budget settlement: <paramref name="counterKeys"/> are spent and reservation keys in pairs.</summary>
    public void Settle(RedisKey[] counterKeys, string reservationId, RedisValue picos, Func<Task> fallback) =>
        Add(new PendingWrite(null, fallback), static (batch, w) =>
        {
            batch.Keys.AddRange(w.Keys);
            batch.Values.Add(SettleCode);
            batch.Values.Add(w.Keys.Length / 2);
            batch.Values.Add(w.Id);
            batch.Values.Add(w.Picos);
        }, (Keys: counterKeys, Id: reservationId, Picos: picos));

    /// <summary>Queues the removal of a calls-in-flight lease.</summary>
    public void Release(RedisKey leases, string leaseId) =>
        Add(PendingWrite.Nothing, static (batch, w) =>
        {
            batch.Keys.Add(w.Leases);
            batch.Values.Add(ReleaseCode);
            batch.Values.Add(w.Id);
        }, (Leases: leases, Id: leaseId));

    /// <summary>
    /// Queues a cache write (the entry with its TTL, and its line in the index); the task completes when Redis has
    /// answered, after <paramref name="notWritten"/> ran if Redis did not take the write (when given).
    /// </summary>
    public Task Cache(RedisKey entry, RedisKey index, byte[] value, long ttlMilliseconds, string field, long size, string model, Action? notWritten = null) =>
        Add(notWritten is null ? PendingWrite.Nothing : new PendingWrite(notWritten, null), static (batch, w) =>
        {
            batch.Keys.Add(w.Entry);
            batch.Keys.Add(w.Index);
            batch.Values.Add(CacheCode);
            batch.Values.Add(w.Value);
            batch.Values.Add(w.Ttl);
            batch.Values.Add(w.Field);
            batch.Values.Add(w.Size);
            batch.Values.Add(w.Model);
        }, (Entry: entry, Index: index, Value: value, Ttl: ttlMilliseconds, Field: field, Size: size, Model: model));

    /// <summary>
    /// Sends every queued write now, before the caller's own command: called by every command of the connection.
    /// Sending only puts the script on the connection; nothing here waits for Redis.
    /// </summary>
    public void SendPending()
    {
        // Always under the lock, even with nothing queued: a batch another thread has just taken from the queue is
        // put on the connection inside the lock, and the caller's command must not overtake it.
        lock (_gate)
        {
            // Under the lock, so that two batches go out in the order their writes were queued.
            var batch = _pending;
            if (batch.Count == 0)
            {
                return;
            }
            // The script gets copies of the arguments (the client keeps them until Redis answers), so the next batch
            // fills the same lists again instead of growing new ones: a RedisValue is 32 bytes.
            var keys = batch.Keys.ToArray();
            var values = batch.Values.ToArray();
            batch.Keys.Clear();
            batch.Values.Clear();
            batch.Charges.Clear();
            _pending = new Batch(batch.Keys, batch.Values, batch.Charges);
            _ = SendAsync(batch, keys, values);
        }
    }

    /// <inheritdoc />
    void IThreadPoolWorkItem.Execute()
    {
        Volatile.Write(ref _scheduled, 0);
        SendPending();
    }

    private Task Add<TWrite>(PendingWrite write, Action<Batch, TWrite> append, TWrite arguments)
    {
        Task sent;
        bool full;
        lock (_gate)
        {
            var batch = _pending;
            append(batch, arguments);
            full = Queue(batch, write);
            sent = batch.Sent.Task;
        }
        SendSoon(full);
        return sent;
    }

    /// <summary>Counts a write whose arguments are in the batch; whether the batch is full. Under the lock.</summary>
    private static bool Queue(Batch batch, PendingWrite write)
    {
        batch.Writes.Add(write);
        Volatile.Write(ref batch.Count, batch.Count + 1);
        return batch.Count >= MaxWritesPerScript;
    }

    private void SendSoon(bool full)
    {
        if (full)
        {
            SendPending();
        }
        else if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            // The first write queued since the last send: a thread-pool thread sends the batch, with whatever other
            // requests queue meanwhile, unless a command of this connection sends it first. Until then, every write
            // queued joins that batch, so a batch with writes always has a send on its way.
            _schedule(this);
        }
    }

    private async Task SendAsync(Batch batch, RedisKey[] keys, RedisValue[] values)
    {
        Interlocked.Increment(ref _sent);
        try
        {
            // Not retried: a script that timed out may have run, and running it twice would apply its writes twice.
            var failed = await _redis.RunDirectAsync("writes", db => EvaluateAsync(db, keys, values), async () =>
            {
                foreach (var write in batch.Writes)
                {
                    await write.FallBackAsync().ConfigureAwait(false);
                }
                return null;
            }, CancellationToken.None).ConfigureAwait(false);
            if (failed is { Length: > 0 })
            {
                await FallBackFailedAsync(batch, failed).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // Fail mode closed refuses requests, not writes behind them: the connection has logged and counted it.
        }
        finally
        {
            batch.Sent.TrySetResult();
        }
    }

    /// <summary>
    /// The writes Redis refused one by one (the script skipped them and applied the rest): each is applied to the
    /// gateway's own state instead, as a batch that never reached Redis is, and only those.
    /// </summary>
    private async Task FallBackFailedAsync(Batch batch, RedisResult[] failed)
    {
        var refused = 0;
        for (var i = 0; i < failed.Length; i += 2)
        {
            refused += batch.Writes[(int)failed[i]].Count;
        }
        _redis.WritesRefused(refused, (string?)failed[1] ?? "");
        for (var i = 0; i < failed.Length; i += 2)
        {
            await batch.Writes[(int)failed[i]].FallBackAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The script's reply: the writes that failed, as position and error pairs (none: an empty array).</summary>
    private async Task<RedisResult[]?> EvaluateAsync(IDatabase db, RedisKey[] keys, RedisValue[] values)
    {
        if (Volatile.Read(ref _scriptKnown) == 0)
        {
            // Until Redis is known to have the script, it goes with its text: sent at once and in order, whereas a
            // NOSCRIPT answer would let later commands overtake the batch sent again.
            var first = (RedisResult[]?)await db.ScriptEvaluateAsync(Script, keys, values).ConfigureAwait(false);
            Volatile.Write(ref _scriptKnown, 1);
            return first;
        }
        try
        {
            return (RedisResult[]?)await db.ScriptEvaluateAsync(Sha, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // Redis lost its scripts (it restarted, and with it the state the batch corrects): nothing ran, so the
            // batch is sent once more, with its text, and so are the next ones until that succeeds.
            Volatile.Write(ref _scriptKnown, 0);
            return await EvaluateAsync(db, keys, values).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The writes queued since the last send; <see cref="Keys"/>, <see cref="Values"/> and <see cref="Charges"/> are
    /// handed on to the next batch once sent.
    /// </summary>
    private sealed class Batch(List<RedisKey> keys, List<RedisValue> values, Dictionary<BucketCharge, (int Requests, int Write)> charges)
    {
        public readonly List<RedisKey> Keys = keys;
        public readonly List<RedisValue> Values = values;

        /// <summary>The batch's charges: where each one's requests (then tokens) are in <see cref="Values"/>, and its place in <see cref="Writes"/>.</summary>
        public readonly Dictionary<BucketCharge, (int Requests, int Write)> Charges = charges;
        public readonly List<PendingWrite> Writes = new(8);
        public readonly TaskCompletionSource Sent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Count;
    }

    /// <summary>A bucket and the limits a charge of it is computed with: charges that agree on all three are added together.</summary>
    private readonly record struct BucketCharge(RedisKey Bucket, int Rpm, int Tpm);

    /// <summary>The fallbacks of charges sent as one: each applies its own charge when Redis refuses theirs.</summary>
    private sealed class CombinedWrite : PendingWrite
    {
        private readonly List<PendingWrite> _writes;

        private CombinedWrite(List<PendingWrite> writes) : base(null, null) => _writes = writes;

        public static CombinedWrite Of(PendingWrite queued, PendingWrite added)
        {
            if (queued is CombinedWrite combined)
            {
                combined._writes.Add(added);
                return combined;
            }
            return new CombinedWrite([queued, added]);
        }

        public override int Count => _writes.Count;

        public override async ValueTask FallBackAsync()
        {
            foreach (var write in _writes)
            {
                await write.FallBackAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>What one write does when Redis cannot take it: applies itself to the gateway's own state, or nothing.</summary>
    internal class PendingWrite(Action? fallback, Func<Task>? fallbackAsync)
    {
        public static readonly PendingWrite Nothing = new(null, null);

        /// <summary>How many of the writes queued this stands for (charges sent as one are several).</summary>
        public virtual int Count => 1;

        public virtual async ValueTask FallBackAsync()
        {
            fallback?.Invoke();
            if (fallbackAsync is not null)
            {
                await fallbackAsync().ConfigureAwait(false);
            }
        }
    }
}
