using Baton.Accounting.Budgets;
using Baton.Accounting.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace Baton.Postgres.Budgets;

/// <summary>
/// Budget counters in PostgreSQL, so that every gateway on the database enforces one budget: what each counter has
/// spent, and one row per counter of each open reservation. A reservation takes a transaction-scoped advisory lock per
/// counter (in a fixed order, so two reservations never deadlock), checks every counter and reserves on all or none:
/// two gateways reserving the last dollar at once cannot both get it. Money is integer picodollars.
/// </summary>
internal sealed class PostgresBudgetStore(PostgresDatabase database) : IBudgetStore
{
    /// <summary>The first half of the two-part advisory lock keys of budget counters ("bud" in ASCII); the second is the counter's hash.</summary>
    private const int LockSpace = 0x627564;

    public async ValueTask<BudgetReservationResult> TryReserveAsync(
        string reservationId, IReadOnlyList<BudgetCounter> counters, decimal amountUsd, DateTimeOffset now, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var keys = counters.Select(c => c.Key).ToArray();
        await using (var locks = new NpgsqlCommand(
            "SELECT pg_advisory_xact_lock($1, hashtext(k)) FROM (SELECT DISTINCT k FROM unnest($2::text[]) k ORDER BY k) ordered",
            connection, transaction))
        {
            locks.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LockSpace });
            locks.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys });
            await locks.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        var before = new List<BudgetState>(counters.Count);
        for (var i = 0; i < counters.Count; i++)
        {
            var state = await ReadAsync(connection, transaction, counters[i].Key, now, cancellationToken).ConfigureAwait(false);
            before.Add(state);
            if (counters[i].HardLimitUsd is { } hard && state.CommittedUsd + amountUsd > hard)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return new BudgetReservationResult(false, i, before);
            }
        }
        await using (var reserve = new NpgsqlCommand("""
            INSERT INTO budget_reservations (id, counter, amount_picousd, expires_at)
            SELECT $1, k, $3, $4 FROM unnest($2::text[]) k
            ON CONFLICT (id, counter) DO UPDATE SET amount_picousd = excluded.amount_picousd, expires_at = excluded.expires_at
            """, connection, transaction))
        {
            reserve.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reservationId });
            reserve.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys.Distinct(StringComparer.Ordinal).ToArray() });
            reserve.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LedgerDatabase.ToPico(amountUsd) });
            reserve.Parameters.Add(Time(expiresAt));
            await reserve.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        // Expired reservations (left by a gateway that died mid-request) no longer count; clear those of these counters.
        await using (var expired = new NpgsqlCommand("DELETE FROM budget_reservations WHERE counter = ANY($1) AND expires_at <= $2", connection, transaction))
        {
            expired.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys });
            expired.Parameters.Add(Time(now));
            await expired.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new BudgetReservationResult(true, -1, before);
    }

    public async ValueTask SettleAsync(string reservationId, IReadOnlyList<string> counterKeys, decimal actualUsd, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        // One statement: the reservation goes and the spending is added at the same instant.
        await using var command = new NpgsqlCommand("""
            WITH released AS (DELETE FROM budget_reservations WHERE id = $1)
            INSERT INTO budget_spend (counter, spent_picousd) SELECT k, $3 FROM unnest($2::text[]) k WHERE $3 <> 0
            ON CONFLICT (counter) DO UPDATE SET spent_picousd = budget_spend.spent_picousd + excluded.spent_picousd
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reservationId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = counterKeys.Distinct(StringComparer.Ordinal).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LedgerDatabase.ToPico(actualUsd) });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<BudgetState> GetAsync(string counterKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(connection, null, counterKey, now, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<BudgetState> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string key, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT COALESCE(SUM(spent_picousd), 0)::bigint FROM budget_spend WHERE counter = $1),
                   (SELECT COALESCE(SUM(amount_picousd), 0)::bigint FROM budget_reservations WHERE counter = $1 AND expires_at > $2)
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(Time(now));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new BudgetState(LedgerDatabase.FromPico(reader.GetInt64(0)), LedgerDatabase.FromPico(reader.GetInt64(1)));
    }

    private static NpgsqlParameter<DateTime> Time(DateTimeOffset time) => new() { TypedValue = time.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
