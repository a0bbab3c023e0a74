using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
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

    // KEYS: 1 revoked set, 2 key buckets, 3 key leases, 4 deployment buckets, 5 deployment leases, then budget
    // counters (spent, reservations) in pairs. ARGV: 1 parts ('k' key, 'b' budget, 'd' deployment, 'r' revocation),
    // 2 key id, 3-6 key rpm, tpm, tokens, max parallel (-1: none), 7-10 the same for the deployment, 11 lease id,
    // 12 lease ttl (microseconds), 13 reservation id, 14 amount (picodollars), 15 now (ms), 16 expiry (ms), 17... hard
    // limits ('' none). The bucket arithmetic is RedisBucketScript's, as in RedisRateLimitStore's 'take' (same hash fields).
    private const string Script = RedisBucketScript.Prelude + "\n" + """
        local parts = ARGV[1]
        local function has(c) return string.find(parts, c, 1, true) ~= nil end
        local function inflight(key, max)
          if max < 0 then return 0, true end
          redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
          local n = redis.call('ZCARD', key)
          return n, n < max
        end
        local function lease(key, max)
          if max < 0 then return end
          local expires = now + tonumber(ARGV[12])
          redis.call('ZADD', key, string.format('%.0f', expires), ARGV[11])
          redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[12]) / 1000) + 1000)
        end
        -- Takes one request and the tokens when both buckets have them and no pause holds; else says how long to wait.
        local function take(key, rpm, tpm, tokens)
          local h = redis.call('HMGET', key, 'r', 'rt', 'k', 'kt', 'p')
          local r = level(rpm, h[1], h[2])
          local k = level(tpm, h[3], h[4])
          local p = tonumber(h[5] or '0')
          local wait, reason = shortfall(r, k, p, rpm, tpm, tokens)
          if wait == 0 then
            if r then r = r - 1 end
            if k then k = k - math.min(tokens, tpm) end
            save(key, r, k, p)
          end
          local paused = 0
          if p > now then paused = p - now end
          return wait, reason, r and tostring(r) or '', k and tostring(k) or '', paused
        end
        -- reply: stage, key wait, key reason, key in flight, budget granted, budget refused by, deployment wait,
        -- deployment reason, deployment in flight, deployment r, deployment k, deployment paused, then budget states.
        local reply = {0, 0, 0, 0, 1, -1, 0, 0, 0, '', '', 0}
        local function done(stage) reply[1] = stage; return reply end
        if has('r') and redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then return done(1) end
        local keymax = tonumber(ARGV[6])
        if has('k') then
          local n, ok = inflight(KEYS[3], keymax)
          reply[4] = n
          if not ok then return done(2) end
          local wait, reason = take(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
          reply[2] = wait
          reply[3] = reason
          if wait > 0 then return done(3) end
        end
        if has('b') then
          local n = (#KEYS - 5) / 2
          local amount = tonumber(ARGV[14])
          local ms = tonumber(ARGV[15])
          local refused = -1
          for i = 1, n do
            local spentkey = KEYS[4 + 2 * i]
            local reskey = KEYS[5 + 2 * i]
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
            local hard = ARGV[16 + i]
            if refused < 0 and hard ~= '' and tonumber(spent) + reserved + amount > tonumber(hard) then
              refused = i - 1
            end
          end
          if refused >= 0 then
            reply[5] = 0
            reply[6] = refused
            return done(4)
          end
          local ttl = math.max(1000, tonumber(ARGV[16]) - ms + 60000)
          for i = 1, n do
            redis.call('HSET', KEYS[5 + 2 * i], ARGV[13], ARGV[14] .. ':' .. ARGV[16])
            redis.call('PEXPIRE', KEYS[5 + 2 * i], ttl)
          end
        end
        -- The key's slot is held from here on, as on one gateway: while the request waits for its deployment too.
        if has('k') then lease(KEYS[3], keymax) end
        if has('d') then
          local depmax = tonumber(ARGV[10])
          local n, ok = inflight(KEYS[5], depmax)
          reply[9] = n
          if not ok then return done(5) end
          local wait, reason, r, k, paused = take(KEYS[4], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
          reply[7] = wait
          reply[8] = reason
          reply[10] = r
          reply[11] = k
          reply[12] = paused
          if wait > 0 then return done(6) end
          lease(KEYS[5], depmax)
        end
        return done(0)
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

    // ARGV[1], the parts an admission takes, by bit: 1 revocation, 2 key, 4 budget, 8 deployment.
    private static readonly RedisValue[] Parts = Enumerable.Range(0, 16)
        .Select(i => (RedisValue)(((i & 1) != 0 ? "r" : "") + ((i & 2) != 0 ? "k" : "") + ((i & 4) != 0 ? "b" : "") + ((i & 8) != 0 ? "d" : "")))
        .ToArray();

    private readonly RedisConnection _redis;
    private readonly RedisRateLimitStore? _buckets;
    private readonly ILogger _logger;
    private readonly RedisKey _revoked;
    private readonly ConcurrentDictionary<ConcurrencyLease, byte> _held = new();
    private readonly ITimer _renewal;
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
        var period = LeaseTtl / 3;
        _renewal = TimeProvider.System.CreateTimer(_ => _ = RenewAsync(), null, period, period);
    }

    /// <summary>The set of revoked key ids, checked by every admission.</summary>
    internal static RedisKey RevokedKey(RedisConnection redis) => redis.Key("keys:revoked");

    /// <summary>Leases this gateway holds now.</summary>
    public int HeldLeases => _held.Count;

    /// <inheritdoc />
    public async ValueTask<AdmissionResult?> TryAdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var counters = request.Budget?.Counters ?? [];
        var keys = new RedisKey[5 + (2 * counters.Count)];
        keys[0] = _revoked;
        keys[1] = _redis.Buckets[request.Key?.Bucket ?? "-"];
        keys[2] = _redis.Leases[request.Key?.Concurrency ?? "-"];
        keys[3] = _redis.Buckets[request.Deployment?.Bucket ?? "-"];
        keys[4] = _redis.Leases[request.Deployment?.Concurrency ?? "-"];
        for (var i = 0; i < counters.Count; i++)
        {
            keys[5 + (2 * i)] = _redis.Spent[counters[i].Key];
            keys[6 + (2 * i)] = _redis.Reserved[counters[i].Key];
        }
        var values = new RedisValue[16 + counters.Count];
        values[0] = Parts[(request.KeyId is null ? 0 : 1) | (request.Key is null ? 0 : 2) | (request.Budget is null ? 0 : 4) | (request.Deployment is null ? 0 : 8)];
        values[1] = request.KeyId ?? "";
        Fill(values, 2, request.Key);
        Fill(values, 6, request.Deployment);
        values[10] = request.LeaseId;
        values[11] = LeaseTtl.Ticks / 10;
        values[12] = request.Budget?.ReservationId ?? "";
        values[13] = request.Budget is { } b ? RedisBudgetStore.Picos(b.AmountUsd) : 0;
        values[14] = request.Budget?.Now.ToUnixTimeMilliseconds() ?? 0;
        values[15] = request.Budget?.ExpiresAt.ToUnixTimeMilliseconds() ?? 0;
        for (var i = 0; i < counters.Count; i++)
        {
            values[16 + i] = counters[i].HardLimitUsd is { } hard ? RedisBudgetStore.Picos(hard) : "";
        }
        var reply = await _redis.RunAsync<RedisResult[]?>("admission", db => EvaluateAsync(db, Script, keys, values),
            static () => ValueTask.FromResult<RedisResult[]?>(null), cancellationToken).ConfigureAwait(false);
        return reply is null ? null : Read(request, reply);
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

    private AdmissionResult Read(AdmissionRequest request, RedisResult[] reply)
    {
        var stage = (AdmissionStage)(int)(long)reply[0];
        var key = Decision((long)reply[1], (int)(long)reply[2]);
        BudgetReservationResult? budget = null;
        if (request.Budget is { } asked && stage is not (AdmissionStage.Revoked or AdmissionStage.KeyConcurrency or AdmissionStage.KeyRate))
        {
            var before = new List<BudgetState>(asked.Counters.Count);
            for (var i = 0; i < asked.Counters.Count; i++)
            {
                before.Add(new BudgetState(FromPicos(reply[12 + (2 * i)]), FromPicos(reply[13 + (2 * i)])));
            }
            budget = new BudgetReservationResult((long)reply[4] == 1, (int)(long)reply[5], before);
        }
        var deployment = Decision((long)reply[6], (int)(long)reply[7]);
        if (request.Deployment is { } taken && stage is AdmissionStage.Admitted or AdmissionStage.DeploymentRate)
        {
            _buckets?.Record(taken.Bucket, reply[9], reply[10], (long)reply[11]);
        }
        if (stage is AdmissionStage.Admitted or AdmissionStage.DeploymentConcurrency or AdmissionStage.DeploymentRate && request.Key is { MaxConcurrency: not null } k)
        {
            _held[new ConcurrencyLease(k.Concurrency, request.LeaseId)] = 0;
        }
        if (stage == AdmissionStage.Admitted && request.Deployment is { MaxConcurrency: not null } d)
        {
            _held[new ConcurrencyLease(d.Concurrency, request.LeaseId)] = 0;
        }
        return new AdmissionResult(stage, key, (int)(long)reply[3], budget, deployment, (int)(long)reply[8]);
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
    /// Evaluates a script by its SHA (EVALSHA), loading it once per connection; a Redis that lost its scripts (a
    /// restart) gets it loaded again.
    /// </summary>
    private async Task<RedisResult[]?> EvaluateAsync(IDatabase db, string script, RedisKey[] keys, RedisValue[] values)
    {
        var sha = Volatile.Read(ref _sha) ?? await LoadAsync(db, script).ConfigureAwait(false);
        try
        {
            return (RedisResult[])(await db.ScriptEvaluateAsync(sha, keys, values).ConfigureAwait(false))!;
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            sha = await LoadAsync(db, script).ConfigureAwait(false);
            return (RedisResult[])(await db.ScriptEvaluateAsync(sha, keys, values).ConfigureAwait(false))!;
        }
    }

    private async Task<byte[]> LoadAsync(IDatabase db, string script)
    {
        var sha = Convert.FromHexString((string)(await db.ExecuteAsync("SCRIPT", "LOAD", script).ConfigureAwait(false))!);
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

    /// <summary>Picodollars as the script returns them (an integer string), read without making a string when it fits in 64 bits.</summary>
    private static decimal FromPicos(RedisResult value)
    {
        var raw = (RedisValue)value;
        var bytes = ((ReadOnlyMemory<byte>)raw).Span;
        return Utf8Parser.TryParse(bytes, out long picos, out var read) && read == bytes.Length
            ? picos / PicosPerUsd
            : decimal.Parse((string)raw!, NumberStyles.Integer, CultureInfo.InvariantCulture) / PicosPerUsd;
    }

    /// <inheritdoc />
    public void Dispose() => _renewal.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Renewing calls-in-flight leases failed ({ErrorType}: {Reason}); they expire unless a later renewal succeeds")]
        public static partial void RenewalFailed(ILogger logger, string errorType, string reason);
    }
}
