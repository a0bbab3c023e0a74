using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Baton.Accounting.Budgets;
using Baton.Admission;
using Baton.RateLimiting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// The one round trip on a request's path: a single Lua script, evaluated by its SHA, that checks the key's
/// revocation, takes the key's calls-in-flight lease and buckets, reserves the budget and takes the first
/// deployment's lease and buckets, atomically, on the Redis server's clock. Buckets and budget counters are the
/// very keys <see cref="RedisRateLimitStore"/> and <see cref="RedisBudgetStore"/> keep (corrections, pauses and
/// settlements go through them), and the deployment's levels returned by the script feed the response headers.
/// Calls in flight are sorted sets of lease ids scored by their expiry: a lease is renewed while its call lasts
/// and removed when it ends; one whose gateway died expires after <see cref="LeaseTtl"/>.
/// </summary>
public sealed partial class RedisAdmissionStore : IAdmissionStore, IDisposable
{
    /// <summary>How long a lease outlives its last renewal: the longest a dead gateway's slot stays taken.</summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(30);

    private const decimal PicosPerUsd = 1_000_000_000_000m;

    // One script admits a batch of requests, one after another, as if each were a script of its own sent in that
    // order (see RedisAdmissionQueue). KEYS: 1 the revocations (RedisKeyChangeFeed), then per admission 4 + 2n keys: key buckets, key
    // leases, deployment buckets, deployment leases, then its n budget counters (spent, reservations) in pairs. ARGV:
    // 1 lease ttl (microseconds), then per admission 16 + n values: parts ('k' key, 'b' budget, 'd' deployment, 'r'
    // revocation), n, key id, key rpm, tpm, tokens, max parallel (-1: none), the same four for the deployment, lease
    // id, reservation id, amount (picodollars), now (ms), expiry (ms), then n hard limits ('' none). The bucket
    // arithmetic is RedisBucketScript's, as in RedisRateLimitStore's 'take' (same hash fields). The reply is one
    // string: per admission a line of space-separated fields (see Read), so that the client parses one buffer
    // instead of an array of results per admission.
    private const string Script = RedisBucketScript.Prelude + "\n" + """
        local ttl = tonumber(ARGV[1])
        -- Every lease this script adds expires at the same time; its set lives a second longer.
        local leaseexpiry = string.format('%d', now + ttl)
        local leasekeep = math.ceil(ttl / 1000) + 1000
        -- Redis runs nothing else while a script runs, so what the script read of a key stays true for every later
        -- admission of the batch but for its own changes: each lease set, bucket and revocation is read once, kept
        -- here as the admissions change it, and written back once at the end. The decisions are those of the
        -- admissions run one after another, for a fraction of the calls into Redis.
        -- The admissions of a batch repeat their limits: each argument is made a number once a script.
        local numbers = {}
        local function num(s)
          local v = numbers[s]
          if v == nil then
            v = tonumber(s)
            numbers[s] = v
          end
          return v
        end
        local sets, setorder = {}, {}
        local buckets, bucketorder = {}, {}
        local revoked = {}
        local function addleases(key, s)
          if #s.added > 0 then
            redis.call('ZADD', key, unpack(s.added))
            redis.call('PEXPIRE', key, leasekeep)
            s.added = {}
          end
        end
        -- Leases in the set and whether one more fits. Expired leases (a dead gateway's) are dropped only when they
        -- could matter: a set that has room even counting them admits as it would without them. Sets of more than
        -- 64 are purged by every script that meets them all the same, so a set holds at most that many expired
        -- leases for long. Once purged, a set has nothing more to drop in this script: its clock stands still.
        local function inflight(key, max)
          if max < 0 then return 0, true end
          local s = sets[key]
          if not s then
            s = {n = redis.call('ZCARD', key), added = {}, purged = false}
            sets[key] = s
            setorder[#setorder + 1] = key
          end
          if s.purged or (s.n < max and s.n <= 64) then return s.n, s.n < max end
          addleases(key, s)
          redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
          s.n = redis.call('ZCARD', key)
          s.purged = true
          return s.n, s.n < max
        end
        local function lease(key, max, id)
          if max < 0 then return end
          local s = sets[key]
          s.n = s.n + 1
          s.added[#s.added + 1] = leaseexpiry
          s.added[#s.added + 1] = id
        end
        -- A level after a take as a later script reads it back from what save writes (tostring's 14 digits; a whole
        -- level as it is), and that text.
        local function kept(x)
          local s = text(x)
          if x % 1 == 0 and x > -1e14 and x < 1e14 then return x, s end
          return tonumber(s), s
        end
        -- Takes one request and the tokens when both buckets have them and no pause holds; else says how long to wait.
        -- A bucket keeps its fields as load read them, then as a take left them: levels as a later script would read
        -- them back, refilled at this script's time. Levels and the pause are returned as the text tostring writes.
        local function take(key, rpm, tpm, tokens)
          local b = buckets[key]
          if not b then
            local h = load(key)
            b = {r = h[1], rt = h[2], k = h[3], kt = h[4], p = tonumber(h[5] or '0'), e = h[6]}
            buckets[key] = b
            bucketorder[#bucketorder + 1] = key
          end
          local r = level(rpm, b.r, b.rt)
          local k = level(tpm, b.k, b.kt)
          local wait, reason = shortfall(r, k, b.p, rpm, tpm, tokens)
          local rs, ks = '', ''
          if wait == 0 then
            if r then b.r, rs = kept(r - 1); b.rt = now; b.saver = true end
            if k then b.k, ks = kept(k - math.min(tokens, tpm)); b.kt = now; b.savek = true end
            b.taken = true
          else
            if r then rs = text(r) end
            if k then ks = text(k) end
          end
          local paused = '0'
          if b.p > now then paused = text(b.p - now) end
          return wait, reason, rs, ks, paused
        end
        local function revokedkey(id)
          local gone = revoked[id]
          if gone == nil then
            gone = redis.call('ZSCORE', KEYS[1], id) ~= false
            revoked[id] = gone
          end
          return gone
        end
        -- One admission, its keys from K and its arguments from A. Reply: stage, key wait, key reason, key in flight,
        -- budget granted, budget refused by, deployment wait, deployment reason, deployment in flight, deployment r,
        -- deployment k, deployment paused, then budget states. Every field is written as text here, whole numbers by
        -- '%d' (all well below 1e14, so as tostring would write them) and the levels as tostring does: table.concat
        -- would format each number as a float.
        local function done(reply, stage)
          reply[1] = stage
          return table.concat(reply, ' ')
        end
        local function admit(K, A)
          local parts = ARGV[A]
          local reply = {'0', '0', '0', '0', '1', '-1', '0', '0', '0', '', '', '0'}
          if string.find(parts, 'r', 1, true) and revokedkey(ARGV[A + 2]) then return done(reply, '1') end
          local haskey = string.find(parts, 'k', 1, true)
          local keymax = num(ARGV[A + 6])
          if haskey then
            local n, ok = inflight(KEYS[K + 1], keymax)
            reply[4] = string.format('%d', n)
            if not ok then return done(reply, '2') end
            local wait, reason = take(KEYS[K], num(ARGV[A + 3]), num(ARGV[A + 4]), num(ARGV[A + 5]))
            if wait > 0 then
              reply[2] = text(wait)
              reply[3] = string.format('%d', reason)
              return done(reply, '3')
            end
          end
          if string.find(parts, 'b', 1, true) then
            local n = tonumber(ARGV[A + 1])
            local amount = tonumber(ARGV[A + 13])
            local ms = tonumber(ARGV[A + 14])
            local refused = -1
            for i = 1, n do
              local spentkey = KEYS[K + 2 + 2 * i]
              local reskey = KEYS[K + 3 + 2 * i]
              local spent = redis.call('GET', spentkey) or '0'
              local reserved = 0
              local entries = redis.call('HGETALL', reskey)
              for j = 1, #entries, 2 do
                local sep = string.find(entries[j + 1], ':', 1, true)
                local expires = tonumber(string.sub(entries[j + 1], sep + 1))
                if expires <= ms then
                  redis.call('HDEL', reskey, entries[j])
                else
                  reserved = reserved + tonumber(string.sub(entries[j + 1], 1, sep - 1))
                end
              end
              table.insert(reply, spent)
              table.insert(reply, string.format('%.0f', reserved))
              local hard = ARGV[A + 15 + i]
              if refused < 0 and hard ~= '' and tonumber(spent) + reserved + amount > tonumber(hard) then
                refused = i - 1
              end
            end
            if refused >= 0 then
              reply[5] = '0'
              reply[6] = string.format('%d', refused)
              return done(reply, '4')
            end
            local expiry = ARGV[A + 15]
            local keep = math.max(1000, tonumber(expiry) - ms + 60000)
            for i = 1, n do
              redis.call('HSET', KEYS[K + 3 + 2 * i], ARGV[A + 12], ARGV[A + 13] .. ':' .. expiry)
              redis.call('PEXPIRE', KEYS[K + 3 + 2 * i], keep)
            end
          end
          -- The key's slot is held from here on, as on one gateway: while the request waits for its deployment too.
          if haskey then lease(KEYS[K + 1], keymax, ARGV[A + 11]) end
          if string.find(parts, 'd', 1, true) then
            local depmax = num(ARGV[A + 10])
            local n, ok = inflight(KEYS[K + 3], depmax)
            reply[9] = string.format('%d', n)
            if not ok then return done(reply, '5') end
            local wait, reason, r, k, paused = take(KEYS[K + 2], num(ARGV[A + 7]), num(ARGV[A + 8]), num(ARGV[A + 9]))
            reply[10] = r
            reply[11] = k
            reply[12] = paused
            if wait > 0 then
              reply[7] = text(wait)
              reply[8] = string.format('%d', reason)
              return done(reply, '6')
            end
            lease(KEYS[K + 3], depmax, ARGV[A + 11])
          end
          return done(reply, '0')
        end
        local out = {}
        local K = 2
        local A = 2
        while A <= #ARGV do
          out[#out + 1] = admit(K, A)
          local n = num(ARGV[A + 1])
          K = K + 4 + 2 * n
          A = A + 16 + n
        end
        for _, key in ipairs(setorder) do addleases(key, sets[key]) end
        for _, key in ipairs(bucketorder) do
          local b = buckets[key]
          if b.taken then save(key, b.saver and b.r or nil, b.savek and b.k or nil, b.p, b.e) end
        end
        return table.concat(out, '\n')
        """;

    // Renews this gateway's leases: KEYS are lease sets, ARGV[1] 'renew' (names the call in Redis's logs), ARGV[2]
    // the ttl (microseconds), then one lease id per key.
    private const string RenewScript = """
        local t = redis.call('TIME')
        local expires = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[2]))
        for i = 1, #KEYS do
          redis.call('ZADD', KEYS[i], 'XX', expires, ARGV[i + 2])
          redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2]) / 1000) + 1000)
        end
        return #KEYS
        """;

    private static readonly RedisValue LeaseTtlMicros = LeaseTtl.Ticks / 10;

    // The first argument of an admission, the parts it takes, by bit: 1 revocation, 2 key, 4 budget, 8 deployment.
    private static readonly RedisValue[] Parts = Enumerable.Range(0, 16)
        .Select(i => (RedisValue)(((i & 1) != 0 ? "r" : "") + ((i & 2) != 0 ? "k" : "") + ((i & 4) != 0 ? "b" : "") + ((i & 8) != 0 ? "d" : "")))
        .ToArray();

    private readonly RedisConnection _redis;
    private readonly RedisRateLimitStore? _buckets;
    private readonly ILogger _logger;
    private readonly RedisKey _revoked;
    private readonly ConcurrentDictionary<ConcurrencyLease, byte> _held = new();
    private readonly ITimer _renewal;
    private readonly RedisAdmissionQueue _queue;
    private byte[]? _sha;

    /// <summary>
    /// Admissions on <paramref name="redis"/>. <paramref name="buckets"/>, when given, learns the deployment levels each
    /// admission returns (for the response headers, without another round trip). Leases are renewed every third of
    /// <see cref="LeaseTtl"/> on the real clock: their expiry is on the Redis server's clock.
    /// </summary>
    public RedisAdmissionStore(RedisConnection redis, RedisRateLimitStore? buckets, ILogger<RedisAdmissionStore> logger)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _buckets = buckets;
        _logger = logger;
        _revoked = RevokedKey(redis);
        _queue = new RedisAdmissionQueue(redis, EvaluateAsync, ReadAll, GiveBack);
        var period = LeaseTtl / 3;
        _renewal = TimeProvider.System.CreateTimer(_ => _ = RenewAsync(), null, period, period);
    }

    /// <summary>The recent revocations (key ids scored by when), checked by every admission; see <see cref="RedisKeyChangeFeed"/>.</summary>
    internal static RedisKey RevokedKey(RedisConnection redis) => redis.Key("keys:revocations");

    /// <summary>Leases this gateway holds now.</summary>
    public int HeldLeases => _held.Count;

    /// <summary>Scripts of admissions sent since start (each carrying one or more admissions).</summary>
    public long AdmissionScriptsSent => _queue.ScriptsSent;

    /// <inheritdoc />
    public ValueTask<AdmissionResult?> TryAdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _queue.AdmitAsync(request, cancellationToken);
    }

    /// <inheritdoc />
    public void Release(ConcurrencyLease lease)
    {
        if (_held.TryRemove(lease, out _))
        {
            // Queued with the request's other writes behind the response; sent before this gateway's next admission.
            _redis.Writes.Release(_redis.Leases[lease.Concurrency], lease.LeaseId);
        }
    }

    /// <summary>Runs <paramref name="requests"/> in one script, in their order; the reply holds one line per admission.</summary>
    private Task<RedisResult?> EvaluateAsync(IDatabase db, IReadOnlyList<AdmissionRequest> requests)
    {
        var keyCount = 1;
        var valueCount = 1;
        for (var i = 0; i < requests.Count; i++)
        {
            var counters = requests[i].Budget?.Counters.Count ?? 0;
            keyCount += 4 + (2 * counters);
            valueCount += 16 + counters;
        }
        var keys = new RedisKey[keyCount];
        var values = new RedisValue[valueCount];
        keys[0] = _revoked;
        values[0] = LeaseTtlMicros;
        var k = 1;
        var v = 1;
        for (var i = 0; i < requests.Count; i++)
        {
            Append(requests[i], keys, ref k, values, ref v);
        }
        return EvaluateAsync(db, keys, values);
    }

    /// <summary>One admission's keys and arguments, as the script reads them from <paramref name="k"/> and <paramref name="v"/>.</summary>
    private void Append(AdmissionRequest request, RedisKey[] keys, ref int k, RedisValue[] values, ref int v)
    {
        var counters = request.Budget?.Counters ?? [];
        keys[k] = _redis.Buckets[request.Key?.Bucket ?? "-"];
        keys[k + 1] = _redis.Leases[request.Key?.Concurrency ?? "-"];
        keys[k + 2] = _redis.Buckets[request.Deployment?.Bucket ?? "-"];
        keys[k + 3] = _redis.Leases[request.Deployment?.Concurrency ?? "-"];
        for (var i = 0; i < counters.Count; i++)
        {
            keys[k + 4 + (2 * i)] = _redis.Spent[counters[i].Key];
            keys[k + 5 + (2 * i)] = _redis.Reserved[counters[i].Key];
        }
        values[v] = Parts[(request.KeyId is null ? 0 : 1) | (request.Key is null ? 0 : 2) | (request.Budget is null ? 0 : 4) | (request.Deployment is null ? 0 : 8)];
        values[v + 1] = counters.Count;
        values[v + 2] = request.KeyId ?? "";
        Fill(values, v + 3, request.Key);
        Fill(values, v + 7, request.Deployment);
        values[v + 11] = request.LeaseId;
        values[v + 12] = request.Budget?.ReservationId ?? "";
        values[v + 13] = request.Budget is { } b ? RedisBudgetStore.Picos(b.AmountUsd) : 0;
        values[v + 14] = request.Budget?.Now.ToUnixTimeMilliseconds() ?? 0;
        values[v + 15] = request.Budget?.ExpiresAt.ToUnixTimeMilliseconds() ?? 0;
        for (var i = 0; i < counters.Count; i++)
        {
            values[v + 16 + i] = counters[i].HardLimitUsd is { } hard ? RedisBudgetStore.Picos(hard) : "";
        }
        k += 4 + (2 * counters.Count);
        v += 16 + counters.Count;
    }

    /// <summary>
    /// The script's reply to <paramref name="requests"/>, one result each, in order. Read only once the script has
    /// answered in time: leases are recorded as held (and renewed) only for admissions whose caller learns of them.
    /// </summary>
    private AdmissionResult[] ReadAll(IReadOnlyList<AdmissionRequest> requests, RedisResult reply) => ReadAll(requests, reply, owned: true);

    /// <summary>
    /// A reply that came after its callers stopped waiting (cancelled, or past the timeout and served by the fail
    /// mode): the leases and budget reservations it granted are released at once, behind the next writes, rather than
    /// held until they expire. Bucket takes stay spent, as a cancelled request's take is on one gateway.
    /// </summary>
    private void GiveBack(IReadOnlyList<AdmissionRequest> requests, RedisResult reply) => ReadAll(requests, reply, owned: false);

    /// <summary>The results; <paramref name="owned"/>: a caller receives them (else what they granted is given back).</summary>
    private AdmissionResult[] ReadAll(IReadOnlyList<AdmissionRequest> requests, RedisResult reply, bool owned)
    {
        var rest = ((ReadOnlyMemory<byte>)(RedisValue)reply).Span;
        var results = new AdmissionResult[requests.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            results[i] = Read(requests[i], new ReplyFields(line), owned);
        }
        return results;
    }

    private AdmissionResult Read(AdmissionRequest request, ReplyFields reply, bool owned)
    {
        var stage = (AdmissionStage)reply.NextInteger();
        var key = Decision(reply.NextInteger(), (int)reply.NextInteger());
        var keyInFlight = (int)reply.NextInteger();
        var budgetGranted = reply.NextInteger() == 1;
        var refusedBy = (int)reply.NextInteger();
        var deployment = Decision(reply.NextInteger(), (int)reply.NextInteger());
        var deploymentInFlight = (int)reply.NextInteger();
        var requests = RedisRateLimitStore.Level(reply.Next());
        var tokens = RedisRateLimitStore.Level(reply.Next());
        var paused = reply.NextInteger();
        BudgetReservationResult? budget = null;
        if (request.Budget is { } asked && stage is not (AdmissionStage.Revoked or AdmissionStage.KeyConcurrency or AdmissionStage.KeyRate))
        {
            var before = new List<BudgetState>(asked.Counters.Count);
            for (var i = 0; i < asked.Counters.Count; i++)
            {
                var spent = FromPicos(reply.Next());
                before.Add(new BudgetState(spent, FromPicos(reply.Next())));
            }
            budget = new BudgetReservationResult(budgetGranted, refusedBy, before);
        }
        if (request.Deployment is { } taken && stage is AdmissionStage.Admitted or AdmissionStage.DeploymentRate)
        {
            _buckets?.Record(taken.Bucket, requests, tokens, paused);
        }
        if (stage is AdmissionStage.Admitted or AdmissionStage.DeploymentConcurrency or AdmissionStage.DeploymentRate && request.Key is { MaxConcurrency: not null } k)
        {
            Took(new ConcurrencyLease(k.Concurrency, request.LeaseId), owned);
        }
        if (stage == AdmissionStage.Admitted && request.Deployment is { MaxConcurrency: not null } d)
        {
            Took(new ConcurrencyLease(d.Concurrency, request.LeaseId), owned);
        }
        if (!owned && budget is { Granted: true } && request.Budget is { } reserved)
        {
            // Nothing was spent: the reservation goes, as a request that ends before its upstream call settles it.
            var keys = new RedisKey[2 * reserved.Counters.Count];
            for (var i = 0; i < reserved.Counters.Count; i++)
            {
                keys[2 * i] = _redis.Spent[reserved.Counters[i].Key];
                keys[(2 * i) + 1] = _redis.Reserved[reserved.Counters[i].Key];
            }
            _redis.Writes.Settle(keys, reserved.ReservationId, 0, static () => Task.CompletedTask);
        }
        return new AdmissionResult(stage, key, keyInFlight, budget, deployment, deploymentInFlight);
    }

    /// <summary>A lease the script added: held (and renewed) for a caller that has it, released for one that is gone.</summary>
    private void Took(ConcurrencyLease lease, bool owned)
    {
        if (owned)
        {
            _held[lease] = 0;
        }
        else
        {
            _redis.Writes.Release(_redis.Leases[lease.Concurrency], lease.LeaseId);
        }
    }

    private static RateLimitDecision Decision(long waitMicros, int reason) =>
        waitMicros > 0 ? RateLimitDecision.Wait(TimeSpan.FromTicks(waitMicros * 10), (RateLimitRefusal)reason) : RateLimitDecision.Grant;

    private static void Fill(RedisValue[] values, int at, BucketTake? take)
    {
        values[at] = take?.Limits.RequestsPerMinute ?? -1;
        values[at + 1] = take?.Limits.TokensPerMinute ?? -1;
        values[at + 2] = take?.Tokens ?? 0;
        values[at + 3] = take?.MaxConcurrency ?? -1;
    }

    /// <summary>
    /// Evaluates the script by its SHA (EVALSHA), loading it once per connection; a Redis that lost its scripts (a
    /// restart) gets it loaded again.
    /// </summary>
    private async Task<RedisResult?> EvaluateAsync(IDatabase db, RedisKey[] keys, RedisValue[] values)
    {
        var sha = Volatile.Read(ref _sha) ?? await LoadAsync(db).ConfigureAwait(false);
        try
        {
            return await db.ScriptEvaluateAsync(sha, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            sha = await LoadAsync(db).ConfigureAwait(false);
            return await db.ScriptEvaluateAsync(sha, keys, values).ConfigureAwait(false);
        }
    }

    private async Task<byte[]> LoadAsync(IDatabase db)
    {
        var sha = Convert.FromHexString((string)(await db.ExecuteAsync("SCRIPT", "LOAD", Script).ConfigureAwait(false))!);
        Volatile.Write(ref _sha, sha);
        return sha;
    }

    /// <summary>Renews every lease this gateway holds, in one script: a call that lasts keeps its slot.</summary>
    private async Task RenewAsync()
    {
        var held = _held.Keys.ToArray();
        if (held.Length == 0)
        {
            return;
        }
        var keys = Array.ConvertAll(held, l => _redis.Leases[l.Concurrency]);
        var values = new RedisValue[held.Length + 2];
        values[0] = "renew";
        values[1] = LeaseTtl.Ticks / 10;
        for (var i = 0; i < held.Length; i++)
        {
            values[i + 2] = held[i].LeaseId;
        }
        try
        {
            await _redis.TryAsync("admission.renew", db => db.ScriptEvaluateAsync(RenewScript, keys, values)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.RenewalFailed(_logger, ex.GetType().Name, ex.Message);
        }
    }

    /// <summary>Picodollars as the script returns them (an integer), read without making a string when it fits in 64 bits.</summary>
    private static decimal FromPicos(ReadOnlySpan<byte> bytes) =>
        Utf8Parser.TryParse(bytes, out long picos, out var read) && read == bytes.Length
            ? picos / PicosPerUsd
            : decimal.Parse(Encoding.ASCII.GetString(bytes), NumberStyles.Integer, CultureInfo.InvariantCulture) / PicosPerUsd;

    /// <summary>The space-separated fields of one admission's line of the reply.</summary>
    private ref struct ReplyFields(ReadOnlySpan<byte> line)
    {
        private ReadOnlySpan<byte> _rest = line;

        public ReadOnlySpan<byte> Next()
        {
            var end = _rest.IndexOf((byte)' ');
            var field = end < 0 ? _rest : _rest[..end];
            _rest = end < 0 ? [] : _rest[(end + 1)..];
            return field;
        }

        /// <summary>A whole number (the script formats every number it returns as one).</summary>
        public long NextInteger()
        {
            var field = Next();
            return Utf8Parser.TryParse(field, out long value, out var read) && read == field.Length
                ? value
                : throw new FormatException("The admission script returned a malformed reply.");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _renewal.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Renewing calls-in-flight leases failed ({ErrorType}: {Reason}); they expire unless a later renewal succeeds")]
        public static partial void RenewalFailed(ILogger logger, string errorType, string reason);
    }
}
