using System.Text;
using Microsoft.Data.Sqlite;

namespace Baton.Accounting.Ledger;

/// <summary>
/// The ledger's INSERT, bound straight from the entries through SQLite's own API (<see cref="SqliteStatement"/>), up to
/// <see cref="MaxRowsPerStatement"/> rows per statement: a batch of rows is a few statements, not one each, so
/// SQLite starts its program, and .NET crosses into native code to run it, once for many rows. The statement for each
/// number of rows is prepared on first use and kept. A row whose attempt id is already in the ledger (or earlier in
/// the same statement) is left out, so writing a row twice bills once. Used by the ledger's single writer only: not
/// thread-safe.
/// </summary>
internal sealed class LedgerInsert : IDisposable
{
    /// <summary>
    /// The most rows one statement inserts: 24 values a row, far below SQLite's limit of bound values; past a few dozen
    /// rows a longer statement saves nothing measurable.
    /// </summary>
    internal const int MaxRowsPerStatement = 32;

    private const int Columns = 24;

    private readonly SqliteConnection _connection;
    private readonly SqliteStatement?[] _statements = new SqliteStatement?[MaxRowsPerStatement + 1];

    public LedgerInsert(SqliteConnection connection) => _connection = connection;

    /// <summary>Inserts <paramref name="rows"/> in order (in the transaction the caller has open).</summary>
    /// <exception cref="SqliteException">SQLite refused a row (busy, full, ...).</exception>
    public void Execute(IReadOnlyList<LedgerEntry> rows)
    {
        for (var start = 0; start < rows.Count; start += MaxRowsPerStatement)
        {
            var count = Math.Min(MaxRowsPerStatement, rows.Count - start);
            var statement = _statements[count] ??= new SqliteStatement(_connection, Sql(count));
            for (var i = 0; i < count; i++)
            {
                Bind(statement, i * Columns, rows[start + i]);
            }
            statement.Execute();
        }
    }

    public void Dispose()
    {
        foreach (var statement in _statements)
        {
            statement?.Dispose();
        }
    }

    private static void Bind(SqliteStatement statement, int offset, LedgerEntry entry)
    {
        statement.Integer(offset + 1, entry.Time.ToUnixTimeMilliseconds());
        statement.Text(offset + 2, entry.Session);
        statement.Text(offset + 3, entry.ApiKey);
        statement.Text(offset + 4, entry.User);
        statement.Text(offset + 5, entry.Tags);
        statement.Text(offset + 6, entry.Task);
        statement.Text(offset + 7, entry.Tier);
        statement.Text(offset + 8, entry.Model);
        statement.Text(offset + 9, entry.Deployment);
        statement.Integer(offset + 10, entry.Usage.PromptTokens);
        statement.Integer(offset + 11, entry.Usage.CachedPromptTokens);
        statement.Integer(offset + 12, entry.Usage.CompletionTokens);
        statement.Integer(offset + 13, entry.Usage.ReasoningTokens);
        statement.Integer(offset + 14, LedgerDatabase.ToPico(entry.CostUsd));
        statement.Integer(offset + 15, entry.Priced ? 1 : 0);
        statement.Real(offset + 16, entry.LatencyMs);
        statement.Integer(offset + 17, entry.Cached ? 1 : 0);
        statement.Integer(offset + 18, entry.Fallback ? 1 : 0);
        statement.Integer(offset + 19, entry.Status);
        statement.Integer(offset + 20, entry.Estimated ? 1 : 0);
        statement.Integer(offset + 21, entry.Usage.CacheWritePromptTokens);
        statement.Integer(offset + 22, entry.Continuation ? 1 : 0);
        statement.Text(offset + 23, entry.Project);
        statement.Text(offset + 24, entry.AttemptId);
    }

    /// <summary>The INSERT of <paramref name="rows"/> rows, their values numbered ?1 to ?(24 × rows) row by row.</summary>
    internal static string Sql(int rows)
    {
        var sql = new StringBuilder("""
            INSERT INTO ledger (time_ms, session, api_key, user, tags, task, tier, model, deployment,
                prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens, cost_picousd, priced,
                latency_ms, cached, fallback, status, estimated, cache_write_tokens, continuation, project, attempt_id)
            VALUES
            """);
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? " (" : ", (");
            for (var column = 1; column <= Columns; column++)
            {
                sql.Append(column == 1 ? "?" : ", ?").Append(row * Columns + column);
            }
            sql.Append(')');
        }
        return sql.Append(" ON CONFLICT (attempt_id) DO NOTHING").ToString();
    }
}
