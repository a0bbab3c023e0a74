using Baton.Postgres.Schema;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Baton.Postgres;

/// <summary>
/// The connection pool to Baton's PostgreSQL database, and its schema: the first use (or the start-up of the host)
/// applies the migrations this version knows and the database lacks, in one transaction under an advisory lock, so
/// that gateways starting together migrate one after the other and the later ones find nothing left to do.
/// </summary>
internal sealed partial class PostgresDatabase : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Task? _migration;

    public PostgresDatabase(string connectionString, ILogger<PostgresDatabase> logger)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.KeepAlive == 0)
        {
            // The key-change listener idles on its connection: a keepalive lets it notice a server that went away.
            builder.KeepAlive = 15;
        }
        // Never shown: the password stays in the pool's settings only.
        Location = $"{builder.Host}:{builder.Port}/{builder.Database}";
        _dataSource = NpgsqlDataSource.Create(builder);
        _logger = logger;
    }

    /// <summary>The server and database, for messages (no user name, no password).</summary>
    public string Location { get; }

    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>Completes once the schema is current; a failed migration is tried again by the next call.</summary>
    public Task EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        Task migration;
        lock (_gate)
        {
            // Unreachable at start, reachable later: a failed attempt is not kept, the next caller tries again.
            if (_migration is null || _migration.IsFaulted || _migration.IsCanceled)
            {
                _migration = MigrateAsync();
            }
            migration = _migration;
        }
        return migration.IsCompletedSuccessfully ? Task.CompletedTask : migration.WaitAsync(cancellationToken);
    }

    /// <summary>An open connection from the pool, once the schema is current.</summary>
    public async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task MigrateAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        // Held until the transaction ends: another gateway migrating now waits here, then sees every step applied.
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({PostgresMigrations.AdvisoryLockKey})").ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """).ConfigureAwait(false);
        var applied = new HashSet<int>();
        await using (var select = new NpgsqlCommand("SELECT version FROM schema_migrations", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                applied.Add(reader.GetInt32(0));
            }
        }
        var newest = PostgresMigrations.All.Max(m => m.Version);
        if (applied.Count > 0 && applied.Max() > newest)
        {
            // A newer Baton migrated this database; running on it could misread what that version writes.
            throw new InvalidOperationException(
                $"The database {Location} has schema version {applied.Max()}, newer than this Baton knows ({newest}); upgrade this gateway.");
        }
        foreach (var migration in PostgresMigrations.All.Where(m => !applied.Contains(m.Version)))
        {
            await ExecuteAsync(connection, transaction, migration.Sql).ConfigureAwait(false);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", connection, transaction);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
            await record.ExecuteNonQueryAsync().ConfigureAwait(false);
            Log.Migrated(_logger, Location, migration.Version, migration.Name);
        }
        await transaction.CommitAsync().ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "PostgreSQL {Location}: applied schema step {Version} ({Name})")]
        public static partial void Migrated(ILogger logger, string location, int version, string name);
    }
}
