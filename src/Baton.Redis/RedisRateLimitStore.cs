using System.Collections.Concurrent;
using Baton.RateLimiting;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// Token buckets shared by every gateway instance: each operation is one Lua script run atomically on the Redis
/// server, on the server's clock (<c>TIME</c>), with the same meaning as <see cref="InMemoryRateLimitStore"/>
/// (a bucket holds a minute's worth and refills continuously; a refused take takes nothing; corrections may run
/// into debt; upstream headroom only lowers). A take is the one round trip on a request's path: the snapshot for
/// the response headers is extrapolated from the levels the last script returned. When Redis is unavailable,
/// the fail mode applies: this instance's own buckets (<c>local</c>) or 503 (<c>closed</c>).
/// </summary>
public sealed class RedisRateLimitStore : IRateLimitStore
{
    // One script for every operation; the bucket arithmetic is RedisBucketScript's, shared with the admission script.
    private const string Script = RedisBucketScript.Prelude + "\n" + """
        local op = ARGV[1]
        local rpm = tonumber(ARGV[2])
        local tpm = tonumber(ARGV[3])
        local h = load(KEYS[1])
        local r = level(rpm, h[1], h[2])
        local k = level(tpm, h[3], h[4])
        local p = tonumber(h[5] or '0')
        local granted = 1
        local wait = 0
        local reason = 0
        if op == 'take' then
          local tokens = tonumber(ARGV[4])
          wait, reason = shortfall(r, k, p, rpm, tpm, tokens)
          if wait > 0 then
            granted = 0
          else
            if r then r = r - 1 end
            if k then k = k - math.min(tokens, tpm) end
          end
        elseif op == 'charge' then
          if r then r = math.min(rpm, r - tonumber(ARGV[4])) end
          if k then k = math.min(tpm, k - tonumber(ARGV[5])) end
        elseif op == 'pause' then
          local untilp = now + tonumber(ARGV[4])
          if untilp > p then p = untilp end
        elseif op == 'lower' then
          if r and ARGV[4] ~= '' then r = math.min(r, tonumber(ARGV[4])) end
          if k and ARGV[5] ~= '' then k = math.min(k, tonumber(ARGV[5])) end
        end
        if op ~= 'snap' and not (op == 'take' and granted == 0) then
          save(KEYS[1], r, k, p, h[6])
        end
        local paused = 0
        if p > now then paused = p - now end
        return {granted, wait, reason, r and tostring(r) or '', k and tostring(k) or '', paused}
        """;

    private readonly RedisConnection _redis;
    private readonly InMemoryRateLimitStore _local;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Reading> _readings = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Buckets on <paramref name="redis"/>; <paramref name="time"/> runs the local buckets of fail mode <c>local</c> and dates snapshots.</summary>
    public RedisRateLimitStore(RedisConnection redis, TimeProvider time)
    {
        _redis = redis;
        _time = time;
        _local = new InMemoryRateLimitStore(time);
    }

    /// <inheritdoc />
    public async ValueTask<RateLimitDecision> TryTakeAsync(string bucket, RateLimitSettings limits, int tokens, CancellationToken cancellationToken = default)
    {
        var reply = await RunAsync("rate_limit.take", bucket, limits, ["take", tokens], cancellationToken).ConfigureAwait(false);
        if (reply is null)
        {
            return await _local.TryTakeAsync(bucket, limits, tokens, cancellationToken).ConfigureAwait(false);
        }
        var (granted, waitMicros, reason) = reply.Value;
        return granted
            ? RateLimitDecision.Grant
            : RateLimitDecision.Wait(TimeSpan.FromTicks(waitMicros * 10), (RateLimitRefusal)reason);
    }

    /// <summary>
    /// Queued behind the response with the request's other writes (one script for all of them), and sent before any
    /// later command of this gateway, so its own next take sees it. The levels the response headers report are
    /// corrected here at once, as the script corrects the bucket.
    /// </summary>
    public ValueTask ChargeAsync(string bucket, RateLimitSettings limits, int requests, int tokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (_readings.TryGetValue(bucket, out var reading))
        {
            _readings[bucket] = reading.Charged(limits, requests, tokens, _time.GetUtcNow());
        }
        _redis.Writes.Charge(_redis.Buckets[bucket], limits.RequestsPerMinute, limits.TokensPerMinute, requests, tokens,
            new LocalCharge(_local, bucket, limits, requests, tokens));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask PauseUntilAsync(string bucket, RateLimitSettings limits, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        // Sent as a duration: the server adds it to its own clock, so instances' clocks need not agree.
        var micros = Math.Max(0, (until - _time.GetUtcNow()).Ticks / 10);
        if (await RunAsync("rate_limit.pause", bucket, limits, ["pause", micros], cancellationToken).ConfigureAwait(false) is null)
        {
            _local.PauseUntil(bucket, limits, until);
        }
    }

    /// <inheritdoc />
    public async ValueTask LowerToAsync(string bucket, RateLimitSettings limits, int? requests, int? tokens, CancellationToken cancellationToken = default)
    {
        RedisValue r = requests is { } x ? x : "";
        RedisValue k = tokens is { } y ? y : "";
        if (await RunAsync("rate_limit.lower", bucket, limits, ["lower", r, k], cancellationToken).ConfigureAwait(false) is null)
        {
            _local.LowerTo(bucket, limits, requests, tokens);
        }
    }

    /// <inheritdoc />
    public async ValueTask<RateLimitSnapshot?> SnapshotAsync(string bucket, RateLimitSettings limits, CancellationToken cancellationToken = default)
    {
        if (!limits.HasBuckets)
        {
            return null;
        }
        if (!_readings.TryGetValue(bucket, out var reading) || _redis.IsDown)
        {
            if (await RunAsync("rate_limit.snapshot", bucket, limits, ["snap"], cancellationToken).ConfigureAwait(false) is null)
            {
                return _local.Snapshot(bucket, limits);
            }
            reading = _readings[bucket];
        }
        return reading.Extrapolate(limits, _time.GetUtcNow());
    }

    /// <summary>Keeps the levels another script returned for <paramref name="bucket"/> (an admission's take): what the response headers report.</summary>
    internal void Record(string bucket, double? requests, double? tokens, long pausedMicros) =>
        _readings[bucket] = new Reading(requests, tokens, pausedMicros, _time.GetUtcNow());

    /// <summary>Runs the script; null when Redis is unavailable and fail mode <c>local</c> applies.</summary>
    private async ValueTask<(bool Granted, long WaitMicros, int Reason)?> RunAsync(
        string operation, string bucket, RateLimitSettings limits, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        var values = new RedisValue[arguments.Length + 2];
        values[0] = arguments[0];
        values[1] = limits.RequestsPerMinute ?? -1;
        values[2] = limits.TokensPerMinute ?? -1;
        Array.Copy(arguments, 1, values, 3, arguments.Length - 1);
        var key = _redis.Buckets[bucket];
        return await _redis.RunAsync<(bool, long, int)?>(operation, async db =>
        {
            var reply = (RedisResult[])(await db.ScriptEvaluateAsync(Script, [key], values).ConfigureAwait(false))!;
            _readings[bucket] = new Reading(Level(reply[3]), Level(reply[4]), (long)reply[5], _time.GetUtcNow());
            return ((long)reply[0] == 1, (long)reply[1], (int)(long)reply[2]);
        }, static () => ValueTask.FromResult<(bool, long, int)?>(null), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A level as a script returns it ('' for no such bucket), read without making a string when it can be.</summary>
    private static double? Level(RedisResult value)
    {
        var raw = (RedisValue)value;
        return raw.IsNullOrEmpty ? null : Level(((ReadOnlyMemory<byte>)raw).Span);
    }

    /// <summary>A level as a script writes it ('' for no such bucket).</summary>
    internal static double? Level(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return null;
        }
        return System.Buffers.Text.Utf8Parser.TryParse(bytes, out double level, out var read) && read == bytes.Length
            ? level
            : double.Parse(System.Text.Encoding.ASCII.GetString(bytes), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A charge Redis did not take, applied to the local buckets instead: every request makes one or two.</summary>
    private sealed class LocalCharge(InMemoryRateLimitStore local, string bucket, RateLimitSettings limits, int requests, int tokens)
        : RedisWriteBehind.PendingWrite(null, null)
    {
        public override ValueTask FallBackAsync()
        {
            local.Charge(bucket, limits, requests, tokens);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The levels a script returned, and when: what the response headers report until the next script.</summary>
    private sealed record Reading(double? Requests, double? Tokens, long PausedMicros, DateTimeOffset At)
    {
        /// <summary>The levels after a charge at <paramref name="now"/>: what the charge script computes from these levels.</summary>
        public Reading Charged(RateLimitSettings limits, int requests, int tokens, DateTimeOffset now)
        {
            var elapsed = Math.Max(0, (now - At).TotalSeconds);
            var r = Current(Requests, limits.RequestsPerMinute, elapsed) is { } x ? Math.Min(limits.RequestsPerMinute!.Value, x - requests) : (double?)null;
            var k = Current(Tokens, limits.TokensPerMinute, elapsed) is { } y ? Math.Min(limits.TokensPerMinute!.Value, y - tokens) : (double?)null;
            return new Reading(r, k, Math.Max(0, PausedMicros - ((now - At).Ticks / 10)), now);
        }

        public RateLimitSnapshot Extrapolate(RateLimitSettings limits, DateTimeOffset now)
        {
            var elapsed = Math.Max(0, (now - At).TotalSeconds);
            var pausedUntil = At + TimeSpan.FromTicks(PausedMicros * 10);
            var paused = pausedUntil > now;
            var requests = Current(Requests, limits.RequestsPerMinute, elapsed);
            var tokens = Current(Tokens, limits.TokensPerMinute, elapsed);
            return new RateLimitSnapshot(
                Remaining(requests, paused), Remaining(tokens, paused),
                ResetAt(requests, limits.RequestsPerMinute, now, pausedUntil), ResetAt(tokens, limits.TokensPerMinute, now, pausedUntil));
        }

        private static double? Current(double? level, int? capacity, double elapsedSeconds) =>
            level is { } l && capacity is { } c ? Math.Min(c, l + (elapsedSeconds * c / 60.0)) : null;

        private static int? Remaining(double? level, bool paused) =>
            level is not { } l ? null : paused ? 0 : (int)Math.Max(0, Math.Floor(l + 1e-9));

        private static DateTimeOffset? ResetAt(double? level, int? capacity, DateTimeOffset now, DateTimeOffset pausedUntil)
        {
            if (level is not { } l || capacity is not { } c)
            {
                return null;
            }
            var full = now + TimeSpan.FromSeconds(Math.Max(0, c - l) * 60.0 / c);
            return pausedUntil > full ? pausedUntil : full;
        }
    }
}
