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
    /// Sync the WAL on every commit. The ledger commits in batches, so it can afford that; state rewritten on
    /// every request (budgets) uses NORMAL, which still survives a killed process, only not a power cut.
    /// </param>
    public static SqliteConnection Open(string path, bool synchronousFull = true)
    {
        var connection = Open(path, Schema, synchronousFull);
        try
        {
            AddMissingColumns(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        return connection;
    }

    /// <summary>Columns added after the first release: a ledger written by an earlier version gains them, empty.</summary>
    private static readonly (string Name, string Type)[] AddedColumns = [("project", "TEXT")];

    private static void AddMissingColumns(SqliteConnection connection)
    {
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var columns = connection.CreateCommand())
        {
            columns.CommandText = "SELECT name FROM pragma_table_info('ledger')";
            using var reader = columns.ExecuteReader();
            while (reader.Read())
            {
                present.Add(reader.GetString(0));
            }
        }
        foreach (var (name, type) in AddedColumns.Where(c => !present.Contains(c.Name)))
        {
            using var add = connection.CreateCommand();
            add.CommandText = $"ALTER TABLE ledger ADD COLUMN {name} {type}";
            add.ExecuteNonQuery();
        }
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
            project TEXT
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
