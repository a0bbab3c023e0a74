using Microsoft.Data.Sqlite;

namespace Baton.Accounting.Ledger;

/// <summary>
/// Opens Baton's SQLite file in WAL mode (readers never block the writer, and a killed process leaves every
/// committed transaction readable) and creates the tables it lacks. Money is stored as integer picodollars
/// (10⁻¹² USD), so sums are exact: a price with up to six decimals per million tokens is whole picodollars per token.
/// </summary>
public static class LedgerDatabase
{
    private const decimal PicoPerDollar = 1_000_000_000_000m;

    public static long ToPico(decimal usd) => (long)Math.Round(usd * PicoPerDollar, MidpointRounding.AwayFromZero);

    public static decimal FromPico(long pico) => pico / PicoPerDollar;

    /// <param name="path">The database file; created when missing.</param>
    /// <param name="synchronousFull">
    /// Sync the WAL on every commit (FULL) rather than at checkpoints (NORMAL). The ledger's writer and state rewritten
    /// on every request (budgets) use NORMAL, which still survives a killed process, only not a power cut.
    /// </param>
    public static SqliteConnection Open(string path, bool synchronousFull = true)
    {
        var connection = Open(path, Schema, synchronousFull);
        try
        {
            foreach (var (name, definition) in AddedColumns)
            {
                AddColumnIfMissing(connection, "ledger", name, definition);
            }
            // Old rows keep no attempt id (NULLs never collide in a unique index); every new row is kept once per attempt.
            Execute(connection, "CREATE UNIQUE INDEX IF NOT EXISTS ledger_attempt ON ledger (attempt_id)");
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        return connection;
    }

    /// <summary>
    /// Columns added after the ledger's first release, added to files that lack them (a file written by an older
    /// Baton keeps its rows; their new columns read as 0).
    /// </summary>
    private static readonly (string Name, string Definition)[] AddedColumns =
    [
        // Prompt tokens written to the provider's prompt cache: with cached_tokens, the stored columns recompute the cost.
        ("cache_write_tokens", "INTEGER NOT NULL DEFAULT 0"),
        // 1 when the row continues a request billed in an earlier row (a resumed stream): requests count rows without it.
        ("continuation", "INTEGER NOT NULL DEFAULT 0"),
        // The project a request was tagged with (metadata.project_id).
        ("project", "TEXT"),
        // One row per upstream attempt, whoever writes it and however often (a batch item delivered again).
        ("attempt_id", "TEXT"),
    ];


    /// <summary>
    /// Adds a column to a table of an existing file, when it lacks it: the migration of a file written by an earlier
    /// version. Checked and added in one write transaction, so two connections opening the file at once add it once.
    /// </summary>
    internal static void AddColumnIfMissing(SqliteConnection connection, string table, string column, string definition)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var info = connection.CreateCommand())
        {
            info.Transaction = transaction;
            info.CommandText = $"SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'";
            if (info.ExecuteScalar() is not null)
            {
                return;
            }
        }
        using (var alter = connection.CreateCommand())
        {
            alter.Transaction = transaction;
            alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {definition}";
            alter.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Opens a SQLite file with the same settings and creates the tables <paramref name="schema"/> declares.</summary>
    /// <param name="path">The database file; created when missing.</param>
    /// <param name="schema">The <c>CREATE ... IF NOT EXISTS</c> statements run after the file is opened.</param>
    /// <param name="synchronousFull">Sync the WAL on every commit (FULL) rather than at checkpoints (NORMAL).</param>
    public static SqliteConnection Open(string path, string schema, bool synchronousFull)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        // No pooling: a pooled connection would keep the file open after its owner is disposed.
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            // One statement at a time: a statement that returns a row (each PRAGMA setting these does) ends what one
            // command reports, and an error after it ("file is not a database") would go unseen.
            foreach (var sql in (string[])["PRAGMA busy_timeout=30000", "PRAGMA journal_mode=WAL",
                $"PRAGMA synchronous={(synchronousFull ? "FULL" : "NORMAL")}", schema])
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                using var reader = command.ExecuteReader();
                while (reader.NextResult())
                {
                }
            }
        }
        catch
        {
            // Not a database, unreadable, locked: the file is not kept open.
            connection.Dispose();
            throw;
        }
        return connection;
    }

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS ledger (
            id INTEGER PRIMARY KEY,
            time_ms INTEGER NOT NULL,
            session TEXT,
            api_key TEXT,
            user TEXT,
            tags TEXT,
            task TEXT,
            tier TEXT,
            model TEXT NOT NULL,
            deployment TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            cached_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_picousd INTEGER NOT NULL,
            priced INTEGER NOT NULL,
            latency_ms REAL NOT NULL,
            cached INTEGER NOT NULL,
            fallback INTEGER NOT NULL,
            status INTEGER NOT NULL,
            estimated INTEGER NOT NULL,
            project TEXT,
            attempt_id TEXT
        );
        CREATE INDEX IF NOT EXISTS ledger_time ON ledger (time_ms);
        CREATE INDEX IF NOT EXISTS ledger_session ON ledger (session, time_ms);
        CREATE TABLE IF NOT EXISTS budget_spend (
            counter TEXT PRIMARY KEY,
            spent_picousd INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS budget_reservations (
            id TEXT NOT NULL,
            counter TEXT NOT NULL,
            amount_picousd INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL,
            PRIMARY KEY (id, counter)
        );
        CREATE INDEX IF NOT EXISTS budget_reservations_counter ON budget_reservations (counter, expires_ms);
        """;
}
