using System.Globalization;
using Baton.Accounting.Budgets;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// Budget counters shared by every gateway instance. A reservation is one Lua script over all the request's
/// counters: it drops expired reservations, checks every hard limit, and reserves on all or none, atomically;
/// a settlement replaces the reservation with the actual cost in one more. Amounts are whole picodollars, as in
/// the SQLite store: spending is an exact 64-bit Redis integer (<c>INCRBY</c>). When Redis is unavailable, the
/// fail mode applies: the <paramref name="local"/> store (<c>local</c>) or 503 (<c>closed</c>).
/// </summary>
/// <param name="redis">The shared connection.</param>
/// <param name="local">Where budgets are kept while Redis is unavailable (the embedded SQLite store).</param>
public sealed class RedisBudgetStore(RedisConnection redis, IBudgetStore local) : IBudgetStore
{
    private const decimal PicosPerUsd = 1_000_000_000_000m;

    // KEYS: spent1, reservations1, spent2, reservations2, ...; ARGV: op, id, amount, now_ms, expires_ms, hard1, hard2, ...
    // ('' = no hard limit). Replies: granted (1/0), the index of the refusing counter (0-based, -1), then spent and
    // reserved of each counter before the reservation, as integer strings.
    private const string ReserveScript = """
        local n = #KEYS / 2
        local amount = tonumber(ARGV[3])
        local now = tonumber(ARGV[4])
        local states = {}
        local refused = -1
        for i = 1, n do
          local spent = redis.call('GET', KEYS[2 * i - 1]) or '0'
          local reserved = 0
          local entries = redis.call('HGETALL', KEYS[2 * i])
          for j = 1, #entries, 2 do
            local sep = string.find(entries[j + 1], ':', 1, true)
            local expires = tonumber(string.sub(entries[j + 1], sep + 1))
            if expires <= now then
              redis.call('HDEL', KEYS[2 * i], entries[j])
            else
              reserved = reserved + tonumber(string.sub(entries[j + 1], 1, sep - 1))
            end
          end
          table.insert(states, spent)
          table.insert(states, string.format('%.0f', reserved))
          local hard = ARGV[5 + i]
          if refused < 0 and hard ~= '' and tonumber(spent) + reserved + amount > tonumber(hard) then
            refused = i - 1
          end
        end
        if refused < 0 and ARGV[1] == 'reserve' then
          local ttl = math.max(1000, tonumber(ARGV[5]) - now + 60000)
          for i = 1, n do
            redis.call('HSET', KEYS[2 * i], ARGV[2], ARGV[3] .. ':' .. ARGV[5])
            redis.call('PEXPIRE', KEYS[2 * i], ttl)
          end
        end
        local reply = {refused < 0 and 1 or 0, refused}
        for _, v in ipairs(states) do table.insert(reply, v) end
        return reply
        """;

    private const string SettleScript = """
        local n = #KEYS / 2
        for i = 1, n do
          redis.call('HDEL', KEYS[2 * i], ARGV[1])
          if ARGV[2] ~= '0' then
            redis.call('INCRBY', KEYS[2 * i - 1], ARGV[2])
          end
        end
        return n
        """;

    /// <inheritdoc />
    public ValueTask<BudgetReservationResult> TryReserveAsync(
        string reservationId, IReadOnlyList<BudgetCounter> counters, decimal amountUsd, DateTimeOffset now, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counters);
        var keys = Keys(counters.Select(c => c.Key).ToList());
        var values = new RedisValue[5 + counters.Count];
        values[0] = "reserve";
        values[1] = reservationId;
        values[2] = ToPicos(amountUsd);
        values[3] = now.ToUnixTimeMilliseconds();
        values[4] = expiresAt.ToUnixTimeMilliseconds();
        for (var i = 0; i < counters.Count; i++)
        {
            values[5 + i] = counters[i].HardLimitUsd is { } hard ? ToPicos(hard) : "";
        }
        return redis.RunAsync("budget.reserve", async db =>
        {
            var reply = (RedisResult[])(await db.ScriptEvaluateAsync(ReserveScript, keys, values).ConfigureAwait(false))!;
            var before = new List<BudgetState>(counters.Count);
            for (var i = 0; i < counters.Count; i++)
            {
                before.Add(new BudgetState(FromPicos(reply[2 + (2 * i)]), FromPicos(reply[3 + (2 * i)])));
            }
            return new BudgetReservationResult((long)reply[0] == 1, (int)(long)reply[1], before);
        }, () => local.TryReserveAsync(reservationId, counters, amountUsd, now, expiresAt, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Settles behind the response: the settlement is queued with the request's other writes (one script for all of
    /// them) and nothing waits for it. It is sent before any later command of this gateway, and commands on one
    /// connection run in the order sent, so this gateway's later reads see it; until it lands, the reservation (at
    /// least as large as an admitted answer's estimate) still counts against the budget.
    /// </summary>
    public ValueTask SettleAsync(string reservationId, IReadOnlyList<string> counterKeys, decimal actualUsd, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counterKeys);
        // A settlement is always attempted against Redis first: a reservation made there must be released there.
        redis.Writes.Settle(Keys(counterKeys), reservationId, Picos(actualUsd),
            () => local.SettleAsync(reservationId, counterKeys, actualUsd, CancellationToken.None).AsTask());
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<BudgetState> GetAsync(string counterKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var keys = Keys([counterKey]);
        return redis.RunAsync("budget.get", async db =>
        {
            var reply = (RedisResult[])(await db.ScriptEvaluateAsync(ReserveScript, keys, ["get", "", "0", now.ToUnixTimeMilliseconds(), "0", ""]).ConfigureAwait(false))!;
            return new BudgetState(FromPicos(reply[2]), FromPicos(reply[3]));
        }, () => local.GetAsync(counterKey, now, cancellationToken), cancellationToken);
    }

    private RedisKey[] Keys(IReadOnlyList<string> counters)
    {
        var keys = new RedisKey[2 * counters.Count];
        for (var i = 0; i < counters.Count; i++)
        {
            keys[2 * i] = redis.Spent[counters[i]];
            keys[(2 * i) + 1] = redis.Reserved[counters[i]];
        }
        return keys;
    }

    /// <summary>An amount in whole picodollars: an integer, without a string when it fits in 64 bits (it always does but for absurd limits).</summary>
    internal static RedisValue Picos(decimal usd)
    {
        var picos = decimal.Round(usd * PicosPerUsd);
        return picos is >= long.MinValue and <= long.MaxValue ? (long)picos : picos.ToString("0", CultureInfo.InvariantCulture);
    }

    private static string ToPicos(decimal usd) => decimal.Round(usd * PicosPerUsd).ToString("0", CultureInfo.InvariantCulture);

    private static decimal FromPicos(RedisResult value) => decimal.Parse((string)value!, NumberStyles.Integer, CultureInfo.InvariantCulture) / PicosPerUsd;
}
