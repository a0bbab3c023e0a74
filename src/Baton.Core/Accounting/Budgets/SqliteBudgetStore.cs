using Baton.Accounting.Ledger;
using Microsoft.Data.Sqlite;

namespace Baton.Accounting.Budgets;

/// <summary>
/// Budget counters in Baton's SQLite file: spending per counter, and one row per counter of each open
/// reservation. Every operation is one immediate transaction, so processes sharing the file see one state;
/// within the process a semaphore orders callers on the single connection.
/// </summary>
public sealed class SqliteBudgetStore : IBudgetStore, IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public SqliteBudgetStore(string path)
    {
        _connection = LedgerDatabase.Open(path, synchronousFull: false);
    }

    public async ValueTask<BudgetReservationResult> TryReserveAsync(
        string reservationId, IReadOnlyList<BudgetCounter> counters, decimal amountUsd, DateTimeOffset now, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = _connection.BeginTransaction();
            var before = new List<BudgetState>(counters.Count);
            var amount = LedgerDatabase.ToPico(amountUsd);
            for (var i = 0; i < counters.Count; i++)
            {
                var state = Read(transaction, counters[i].Key, now);
                before.Add(state);
                if (counters[i].HardLimitUsd is { } hard && state.CommittedUsd + amountUsd > hard)
                {
                    transaction.Rollback();
                    return new BudgetReservationResult(false, i, before);
                }
            }
            foreach (var counter in counters)
            {
                Execute(transaction, "INSERT OR REPLACE INTO budget_reservations (id, counter, amount_picousd, expires_ms) VALUES ($id, $counter, $amount, $expires)",
                    ("$id", reservationId), ("$counter", counter.Key), ("$amount", amount), ("$expires", expiresAt.ToUnixTimeMilliseconds()));
            }
            // Expired reservations (left by a process that died mid-request) no longer count; clear them now and then.
            Execute(transaction, "DELETE FROM budget_reservations WHERE expires_ms <= $now", ("$now", now.ToUnixTimeMilliseconds()));
            transaction.Commit();
            return new BudgetReservationResult(true, -1, before);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask SettleAsync(string reservationId, IReadOnlyList<string> counterKeys, decimal actualUsd, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = _connection.BeginTransaction();
            Execute(transaction, "DELETE FROM budget_reservations WHERE id = $id", ("$id", reservationId));
            var actual = LedgerDatabase.ToPico(actualUsd);
            if (actual != 0)
            {
                foreach (var key in counterKeys)
                {
                    Execute(transaction, """
                        INSERT INTO budget_spend (counter, spent_picousd) VALUES ($counter, $amount)
                        ON CONFLICT (counter) DO UPDATE SET spent_picousd = spent_picousd + excluded.spent_picousd
                        """, ("$counter", key), ("$amount", actual));
                }
            }
            transaction.Commit();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<BudgetState> GetAsync(string counterKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Read(null, counterKey, now);
        }
        finally
        {
            _gate.Release();
        }
    }

    private BudgetState Read(SqliteTransaction? transaction, string key, DateTimeOffset now)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT (SELECT COALESCE(SUM(spent_picousd), 0) FROM budget_spend WHERE counter = $counter),
                   (SELECT COALESCE(SUM(amount_picousd), 0) FROM budget_reservations WHERE counter = $counter AND expires_ms > $now)
            """;
        command.Parameters.AddWithValue("$counter", key);
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        using var reader = command.ExecuteReader();
        reader.Read();
        return new BudgetState(LedgerDatabase.FromPico(reader.GetInt64(0)), LedgerDatabase.FromPico(reader.GetInt64(1)));
    }

    private void Execute(SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _connection.Dispose();
        _gate.Dispose();
    }
}
