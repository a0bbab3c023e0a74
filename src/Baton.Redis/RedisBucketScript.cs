namespace Baton.Redis;

/// <summary>
/// The token-bucket arithmetic the rate-limit store's script and the admission script share, so that a bucket means
/// the same whichever of them takes from it: Redis's clock, the refill, the wait for a take, and how a bucket is
/// written back. Levels are floats with the time of their last refill in microseconds; a missing hash is a full bucket.
/// </summary>
internal static class RedisBucketScript
{
    /// <summary>The start of both scripts: <c>now</c> from Redis's clock, and the functions <c>level</c>, <c>shortfall</c> and <c>save</c>.</summary>
    public const string Prelude = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
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
        local function save(key, r, k, p)
          -- Times are whole microseconds: tostring would round them to 14 digits.
          local stamp = string.format('%.0f', now)
          local fields = {'p', string.format('%.0f', p)}
          if r then table.insert(fields, 'r'); table.insert(fields, tostring(r)); table.insert(fields, 'rt'); table.insert(fields, stamp) end
          if k then table.insert(fields, 'k'); table.insert(fields, tostring(k)); table.insert(fields, 'kt'); table.insert(fields, stamp) end
          redis.call('HSET', key, unpack(fields))
          local ttl = 120000
          if p > now then ttl = ttl + math.ceil((p - now) / 1000) end
          redis.call('PEXPIRE', key, ttl)
        end
        """;
}
