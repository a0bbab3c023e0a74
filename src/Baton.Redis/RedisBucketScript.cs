namespace Baton.Redis;

/// <summary>
/// The token-bucket arithmetic the rate-limit store's script and the admission script share, so that a bucket means
/// the same whichever of them takes from it: Redis's clock, the refill, the wait for a take, and how a bucket is
/// written back. Levels are floats with the time of their last refill in microseconds; a missing hash is a full bucket.
/// </summary>
internal static class RedisBucketScript
{
    /// <summary>The start of both scripts: <c>now</c> from Redis's clock (and <c>stamp</c>, the same as a string), and the functions <c>level</c>, <c>shortfall</c>, <c>load</c> and <c>save</c>.</summary>
    public const string Prelude = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        -- Times are whole microseconds: tostring would round them to 14 digits. '%d' writes a whole number as '%.0f'
        -- does, without the floating-point formatting (a large share of Redis's time in these scripts).
        local stamp = string.format('%d', now)
        -- A level as tostring writes it (14 significant digits), a whole one by '%d' (the same text, faster).
        local function text(x)
          if x % 1 == 0 and x > -1e14 and x < 1e14 then return string.format('%d', x) end
          return tostring(x)
        end
        local function level(cap, lvl, ts)
          if cap < 0 then return nil end
          if not lvl then return cap end
          lvl = tonumber(lvl)
          ts = tonumber(ts)
          if now > ts then lvl = math.min(cap, lvl + (now - ts) * cap / 60000000) end
          return math.min(cap, lvl)
        end
        -- How long until one request and the tokens are there (microseconds, 0: now), and which limit waits the
        -- longest: 1 the upstream's pause, 2 requests, 3 tokens.
        local function shortfall(r, k, p, rpm, tpm, tokens)
          local wait = 0
          local reason = 0
          if p > now then wait = p - now; reason = 1 end
          if r then
            local missing = math.min(1, rpm) - r
            if missing > 1e-9 then
              local w = math.ceil(missing * 60000000 / rpm)
              if w > wait then wait = w; reason = 2 end
            end
          end
          if k then
            local missing = math.min(tokens, tpm) - k
            if missing > 1e-9 then
              local w = math.ceil(missing * 60000000 / tpm)
              if w > wait then wait = w; reason = 3 end
            end
          end
          return wait, reason
        end
        -- A bucket's fields: levels and their refill times, the pause, and when its expiry was last pushed back.
        local function load(key)
          return redis.call('HMGET', key, 'r', 'rt', 'k', 'kt', 'p', 'e')
        end
        -- e: the bucket's 'e' as load read it. The expiry is pushed back (to 121 s, more while paused) at most once a
        -- second rather than on every save, so a bucket still lives at least 120 s after its last save.
        local function save(key, r, k, p, e)
          local ps = p == 0 and '0' or string.format('%.0f', p)
          local since = e and now - tonumber(e)
          local renew = p > now or not since or since >= 1000000 or since < 0
          if r and k and not renew then
            -- The usual save, both levels and nothing else, written without building its fields' table.
            redis.call('HSET', key, 'p', ps, 'r', text(r), 'rt', stamp, 'k', text(k), 'kt', stamp)
            return
          end
          local fields = {'p', ps}
          if r then table.insert(fields, 'r'); table.insert(fields, text(r)); table.insert(fields, 'rt'); table.insert(fields, stamp) end
          if k then table.insert(fields, 'k'); table.insert(fields, text(k)); table.insert(fields, 'kt'); table.insert(fields, stamp) end
          if renew then table.insert(fields, 'e'); table.insert(fields, stamp) end
          redis.call('HSET', key, unpack(fields))
          if renew then
            local ttl = 121000
            if p > now then ttl = ttl + math.ceil((p - now) / 1000) end
            redis.call('PEXPIRE', key, ttl)
          end
        end
        """;
}
