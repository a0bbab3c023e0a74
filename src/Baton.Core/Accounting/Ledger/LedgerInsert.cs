using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Baton.Accounting.Ledger;

/// <summary>
/// The ledger's one INSERT, prepared once and bound through SQLite's own API. Every answer Baton gives is a
/// row, so this runs thousands of times a second under load; Microsoft.Data.Sqlite's parameters allocate a
/// binder, a boxed value and a UTF-8 copy per value per row, which profiling showed to be a tenth of all the
/// gateway's allocations. Here values are bound straight from the entry, text through one reused buffer.
/// A row whose attempt id is already in the ledger is left out, so writing a row twice bills once.
/// Used by the ledger's single writer only: not thread-safe.
/// </summary>
internal sealed class LedgerInsert : IDisposable
{
    private const string Sql = """
        INSERT INTO ledger (time_ms, session, api_key, user, tags, task, tier, model, deployment,
            prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens, cost_picousd, priced,
            latency_ms, cached, fallback, status, estimated, cache_write_tokens, continuation, project, attempt_id)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)
        ON CONFLICT (attempt_id) DO NOTHING
        """;

    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;
    private byte[] _text = new byte[256];

    public LedgerInsert(SqliteConnection connection)
    {
        _database = connection.Handle!;
        Check(raw.sqlite3_prepare_v2(_database, Sql, out _statement));
    }

    /// <exception cref="SqliteException">SQLite refused the row (busy, full, ...).</exception>
    public void Execute(LedgerEntry entry)
    {
        try
        {
            Integer(1, entry.Time.ToUnixTimeMilliseconds());
            Text(2, entry.Session);
            Text(3, entry.ApiKey);
            Text(4, entry.User);
            Text(5, entry.Tags);
            Text(6, entry.Task);
            Text(7, entry.Tier);
            Text(8, entry.Model);
            Text(9, entry.Deployment);
            Integer(10, entry.Usage.PromptTokens);
            Integer(11, entry.Usage.CachedPromptTokens);
            Integer(12, entry.Usage.CompletionTokens);
            Integer(13, entry.Usage.ReasoningTokens);
            Integer(14, LedgerDatabase.ToPico(entry.CostUsd));
            Integer(15, entry.Priced ? 1 : 0);
            Check(raw.sqlite3_bind_double(_statement, 16, entry.LatencyMs));
            Integer(17, entry.Cached ? 1 : 0);
            Integer(18, entry.Fallback ? 1 : 0);
            Integer(19, entry.Status);
            Integer(20, entry.Estimated ? 1 : 0);
            Integer(21, entry.Usage.CacheWritePromptTokens);
            Integer(22, entry.Continuation ? 1 : 0);
            Text(23, entry.Project);
            Text(24, entry.AttemptId);
            var done = raw.sqlite3_step(_statement);
            if (done != raw.SQLITE_DONE)
            {
                Check(done);
            }
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    private void Integer(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    private void Text(int index, string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(_statement, index));
            return;
        }
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_text.Length < length)
        {
            _text = new byte[Math.Max(length, _text.Length * 2)];
        }
        var written = Encoding.UTF8.GetBytes(value, _text);
        // SQLite copies the bytes (SQLITE_TRANSIENT), so the buffer is free for the next value at once.
        Check(raw.sqlite3_bind_text(_statement, index, _text.AsSpan(0, written)));
    }

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, _database);
        }
    }

    public void Dispose() => _statement.Dispose();
}
