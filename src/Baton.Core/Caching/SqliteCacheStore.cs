using Baton.Accounting.Ledger;
using Baton.Providers;
using Microsoft.Data.Sqlite;

namespace Baton.Caching;

/// <summary>
/// The cache in a SQLite file (WAL), so answers survive restarts. Expiry follows the injected clock; past
/// the size cap the least recently used entries are deleted. One connection, serialised: cache operations
/// are a single indexed row each.
/// </summary>
public sealed class SqliteCacheStore : ICacheStore
{
    private readonly SqliteConnection _connection;
    private readonly long _maxBytes;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    public SqliteCacheStore(string path, long maxBytes, TimeProvider time)
    {
        _maxBytes = maxBytes;
        _time = time;
        _connection = LedgerDatabase.Open(path, """
            CREATE TABLE IF NOT EXISTS cache_entries (
                key TEXT PRIMARY KEY,
                model TEXT NOT NULL COLLATE NOCASE,
                deployment TEXT NOT NULL,
                body BLOB NOT NULL,
                prompt_tokens INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL,
                cached_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                created_ms INTEGER NOT NULL,
                expires_ms INTEGER NOT NULL,
                last_used_ms INTEGER NOT NULL,
                size INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS cache_entries_last_used ON cache_entries (last_used_ms);
            CREATE INDEX IF NOT EXISTS cache_entries_model ON cache_entries (model);
            """, synchronousFull: false);
    }

    public CachedAnswer? Find(string key)
    {
        var now = Now();
        lock (_gate)
        {
            using var select = Command("""
                SELECT model, deployment, body, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, created_ms, expires_ms
                FROM cache_entries WHERE key = $key AND expires_ms > $now
                """, ("$key", key), ("$now", now));
            using var row = select.ExecuteReader();
            if (!row.Read())
            {
                return null;
            }
            var answer = new CachedAnswer(
                key,
                row.GetString(0),
                row.GetString(1),
                (byte[])row[2],
                TokenUsage.Of(row.GetInt32(3), row.GetInt32(4), row.GetInt32(5), row.GetInt32(6)),
                DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(7)),
                DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(8)));
            row.Close();
            using var touch = Command("UPDATE cache_entries SET last_used_ms = $now WHERE key = $key", ("$key", key), ("$now", now));
            touch.ExecuteNonQuery();
            return answer;
        }
    }

    public void Save(CachedAnswer answer)
    {
        if (answer.Size > _maxBytes)
        {
            return;
        }
        var now = Now();
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var upsert = Command("""
                INSERT OR REPLACE INTO cache_entries
                    (key, model, deployment, body, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, created_ms, expires_ms, last_used_ms, size)
                VALUES ($key, $model, $deployment, $body, $prompt, $completion, $cached, $reasoning, $created, $expires, $now, $size)
                """,
                ("$key", answer.Key), ("$model", answer.Model), ("$deployment", answer.Deployment), ("$body", answer.Body),
                ("$prompt", answer.Usage.PromptTokens), ("$completion", answer.Usage.CompletionTokens),
                ("$cached", answer.Usage.CachedPromptTokens), ("$reasoning", answer.Usage.ReasoningTokens),
                ("$created", answer.Created.ToUnixTimeMilliseconds()), ("$expires", answer.Expires.ToUnixTimeMilliseconds()),
                ("$now", now), ("$size", answer.Size)))
            {
                upsert.Transaction = transaction;
                upsert.ExecuteNonQuery();
            }
            Evict(transaction, now);
            transaction.Commit();
        }
    }

    public long Purge(string? model = null)
    {
        lock (_gate)
        {
            using var delete = model is null
                ? Command("DELETE FROM cache_entries")
                : Command("DELETE FROM cache_entries WHERE model = $model", ("$model", model));
            return delete.ExecuteNonQuery();
        }
    }

    public (long Entries, long Bytes) Size()
    {
        lock (_gate)
        {
            using var count = Command("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM cache_entries WHERE expires_ms > $now", ("$now", Now()));
            using var row = count.ExecuteReader();
            row.Read();
            return (row.GetInt64(0), row.GetInt64(1));
        }
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>Drops expired entries, then the least recently used until the cache fits its cap.</summary>
    private void Evict(SqliteTransaction transaction, long now)
    {
        using (var expired = Command("DELETE FROM cache_entries WHERE expires_ms <= $now", ("$now", now)))
        {
            expired.Transaction = transaction;
            expired.ExecuteNonQuery();
        }
        using var trim = Command("""
            DELETE FROM cache_entries WHERE key IN (
                SELECT key FROM (
                    SELECT key, SUM(size) OVER (ORDER BY last_used_ms DESC, key) AS running FROM cache_entries)
                WHERE running > $max)
            """, ("$max", _maxBytes));
        trim.Transaction = transaction;
        trim.ExecuteNonQuery();
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
