using Baton.Accounting.Ledger;
using Microsoft.Data.Sqlite;

namespace Baton.Caching;

/// <summary>
/// The cache file's writer side: one connection and its prepared statements. A batch of queued writes and
/// recorded uses is committed in one transaction, which also drops expired rows and, past the size cap, the
/// least recently used ones. Both walk an index, so a batch costs in proportion to what it changes, never to the
/// size of the table. Entry and byte totals are kept by triggers in <c>cache_totals</c>, so they stay exact
/// whoever writes the file (another gateway, <c>baton cache purge</c>). Not thread-safe: its owner serialises calls.
/// </summary>
internal sealed class SqliteCacheTable : IDisposable
{
    internal const string Schema = """
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
        DROP INDEX IF EXISTS cache_entries_last_used;
        CREATE INDEX IF NOT EXISTS cache_entries_lru ON cache_entries (last_used_ms, key, size);
        CREATE INDEX IF NOT EXISTS cache_entries_expires ON cache_entries (expires_ms);
        CREATE INDEX IF NOT EXISTS cache_entries_model ON cache_entries (model);
        CREATE TABLE IF NOT EXISTS cache_totals (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            entries INTEGER NOT NULL,
            bytes INTEGER NOT NULL);
        INSERT OR IGNORE INTO cache_totals (id, entries, bytes)
            SELECT 1, COUNT(*), COALESCE(SUM(size), 0) FROM cache_entries WHERE NOT EXISTS (SELECT 1 FROM cache_totals);
        CREATE TRIGGER IF NOT EXISTS cache_entries_added AFTER INSERT ON cache_entries BEGIN
            UPDATE cache_totals SET entries = entries + 1, bytes = bytes + NEW.size WHERE id = 1;
        END;
        CREATE TRIGGER IF NOT EXISTS cache_entries_removed AFTER DELETE ON cache_entries BEGIN
            UPDATE cache_totals SET entries = entries - 1, bytes = bytes - OLD.size WHERE id = 1;
        END;
        CREATE TRIGGER IF NOT EXISTS cache_entries_resized AFTER UPDATE OF size ON cache_entries BEGIN
            UPDATE cache_totals SET bytes = bytes - OLD.size + NEW.size WHERE id = 1;
        END;
        """;

    private readonly SqliteConnection _connection;
    private readonly SqliteStatement _upsert;
    private readonly SqliteStatement _touch;
    private readonly SqliteCommand _sweep;
    private readonly SqliteCommand _totals;
    private readonly SqliteCommand _oldest;
    private readonly SqliteCommand _delete;
    private readonly SqliteCommand _dataVersion;
    private long _lastDataVersion;

    /// <summary>Opens (or creates) the file; throws, keeping nothing open, when it is not a usable database.</summary>
    public SqliteCacheTable(string path)
    {
        // Answers can be asked for again; a power cut losing the last commits costs only those cached answers.
        _connection = LedgerDatabase.Open(path, Schema, synchronousFull: false);
        // The two statements run for every answer and every use are bound without allocating (see SqliteStatement).
        _upsert = new SqliteStatement(_connection, """
            INSERT INTO cache_entries
                (key, model, deployment, body, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, created_ms, expires_ms, last_used_ms, size)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            ON CONFLICT (key) DO UPDATE SET
                model = excluded.model, deployment = excluded.deployment, body = excluded.body,
                prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
                cached_tokens = excluded.cached_tokens, reasoning_tokens = excluded.reasoning_tokens,
                created_ms = excluded.created_ms, expires_ms = excluded.expires_ms,
                last_used_ms = excluded.last_used_ms, size = excluded.size
            """);
        _touch = new SqliteStatement(_connection, "UPDATE cache_entries SET last_used_ms = ?2 WHERE key = ?1 AND last_used_ms < ?2");
        _sweep = Command("DELETE FROM cache_entries WHERE expires_ms <= $now", "$now");
        _totals = Command("SELECT entries, bytes FROM cache_totals WHERE id = 1");
        _oldest = Command("SELECT key, size FROM cache_entries ORDER BY last_used_ms, key");
        _delete = Command("DELETE FROM cache_entries WHERE key = $key", "$key");
        _dataVersion = Command("PRAGMA data_version");
        _lastDataVersion = DataVersion();
    }

    /// <summary>
    /// Writes <paramref name="writes"/> and <paramref name="uses"/>, drops what expired by <paramref name="nowMs"/>, and
    /// evicts the least recently used rows until the live bytes fit <paramref name="maxBytes"/>, all in one transaction.
    /// </summary>
    /// <returns>The keys evicted for size, and whether another connection changed the file since the last commit.</returns>
    public (List<string> Evicted, bool ChangedElsewhere) Commit(
        IReadOnlyList<SqliteCacheWrite> writes, IReadOnlyList<KeyValuePair<string, long>> uses, long nowMs, long maxBytes)
    {
        // data_version moves only when another connection commits: then rows this process holds in memory may be gone.
        var version = DataVersion();
        var changedElsewhere = version != _lastDataVersion;
        _lastDataVersion = version;
        var evicted = new List<string>();
        using (var transaction = _connection.BeginTransaction())
        {
            Enlist(transaction);
            try
            {
                foreach (var write in writes)
                {
                    Upsert(write);
                }
                foreach (var (key, used) in uses)
                {
                    _touch.Text(1, key);
                    _touch.Integer(2, used);
                    _touch.Execute();
                }
                _sweep.Parameters[0].Value = nowMs;
                _sweep.ExecuteNonQuery();
                var excess = Totals().Bytes - maxBytes;
                if (excess > 0)
                {
                    Evict(excess, evicted);
                }
                transaction.Commit();
            }
            finally
            {
                Enlist(null);
            }
        }
        return (evicted, changedElsewhere);
    }

    /// <summary>Deletes every live entry, or one model's (expired rows go too, uncounted); returns how many live ones.</summary>
    public long Purge(string? model, long nowMs)
    {
        using var transaction = _connection.BeginTransaction();
        Enlist(transaction);
        long deleted;
        try
        {
            _sweep.Parameters[0].Value = nowMs;
            _sweep.ExecuteNonQuery();
            using var delete = _connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = model is null ? "DELETE FROM cache_entries" : "DELETE FROM cache_entries WHERE model = $model";
            if (model is not null)
            {
                delete.Parameters.AddWithValue("$model", model);
            }
            deleted = delete.ExecuteNonQuery();
            transaction.Commit();
        }
        finally
        {
            Enlist(null);
        }
        return deleted;
    }

    /// <summary>The rows and bytes in the file (callers sweep expired rows first, in <see cref="Commit"/>).</summary>
    public (long Entries, long Bytes) Totals()
    {
        using var row = _totals.ExecuteReader();
        return row.Read() ? (row.GetInt64(0), row.GetInt64(1)) : (0, 0);
    }

    public void Dispose()
    {
        _upsert.Dispose();
        _touch.Dispose();
        foreach (var command in (SqliteCommand[])[_sweep, _totals, _oldest, _delete, _dataVersion])
        {
            command.Dispose();
        }
        _connection.Dispose();
    }

    private void Upsert(SqliteCacheWrite write)
    {
        var answer = write.Answer;
        _upsert.Text(1, answer.Key);
        _upsert.Text(2, answer.Model);
        _upsert.Text(3, answer.Deployment);
        _upsert.Blob(4, answer.Body);
        _upsert.Integer(5, answer.Usage.PromptTokens);
        _upsert.Integer(6, answer.Usage.CompletionTokens);
        _upsert.Integer(7, answer.Usage.CachedPromptTokens);
        _upsert.Integer(8, answer.Usage.ReasoningTokens);
        _upsert.Integer(9, answer.Created.ToUnixTimeMilliseconds());
        _upsert.Integer(10, answer.Expires.ToUnixTimeMilliseconds());
        _upsert.Integer(11, write.UsedMs);
        _upsert.Integer(12, answer.Size);
        _upsert.Execute();
    }

    /// <summary>Walks the last-used index from the oldest and deletes until <paramref name="excess"/> bytes are gone.</summary>
    private void Evict(long excess, List<string> evicted)
    {
        using (var oldest = _oldest.ExecuteReader())
        {
            while (excess > 0 && oldest.Read())
            {
                evicted.Add(oldest.GetString(0));
                excess -= oldest.GetInt64(1);
            }
        }
        foreach (var key in evicted)
        {
            _delete.Parameters[0].Value = key;
            _delete.ExecuteNonQuery();
        }
    }

    private void Enlist(SqliteTransaction? transaction)
    {
        // The statements bound through SQLite's API (upsert, touch) run in the open transaction without being told.
        foreach (var command in (SqliteCommand[])[_sweep, _totals, _oldest, _delete])
        {
            command.Transaction = transaction;
        }
    }

    private long DataVersion() => Convert.ToInt64(_dataVersion.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        return command;
    }
}

/// <summary>An answer waiting to be written, with the time it was saved (its first use).</summary>
internal sealed class SqliteCacheWrite(CachedAnswer answer, long usedMs)
{
    public CachedAnswer Answer { get; } = answer;

    public long UsedMs { get; } = usedMs;
}
