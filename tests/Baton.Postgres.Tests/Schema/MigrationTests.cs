using Baton.Postgres.Schema;
using Baton.Postgres.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Baton.Postgres.Tests.Schema;

/// <summary>The schema's versioned migrations, applied at start-up by several gateways at once.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrationTests(PostgresServer server)
{
    [Fact]
    public async Task Gateways_migrating_at_once_apply_each_step_once_and_all_see_the_whole_schema()
    {
        var connection = await server.CreateDatabaseAsync();
        var databases = Enumerable.Range(0, 6).Select(_ => new PostgresDatabase(connection, NullLogger<PostgresDatabase>.Instance)).ToList();
        try
        {
            await Task.WhenAll(databases.Select(d => Task.Run(() => d.EnsureMigratedAsync(CancellationToken.None))));

            await using var check = new NpgsqlConnection(connection);
            await check.OpenAsync();
            var versions = new List<int>();
            await using (var command = new NpgsqlCommand("SELECT version FROM schema_migrations ORDER BY version", check))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    versions.Add(reader.GetInt32(0));
                }
            }
            Assert.Equal(PostgresMigrations.All.Select(m => m.Version), versions);
            await using var tables = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('api_keys', 'ledger')", check);
            Assert.Equal(2L, await tables.ExecuteScalarAsync());
        }
        finally
        {
            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_database_migrated_by_a_newer_version_is_refused_and_an_unreachable_one_is_retried()
    {
        var connection = await server.CreateDatabaseAsync();
        await using (var first = new PostgresDatabase(connection, NullLogger<PostgresDatabase>.Instance))
        {
            await first.EnsureMigratedAsync(CancellationToken.None);
        }
        await using (var admin = new NpgsqlConnection(connection))
        {
            await admin.OpenAsync();
            await using var newer = new NpgsqlCommand("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from the future')", admin);
            await newer.ExecuteNonQueryAsync();
        }
        await using var database = new PostgresDatabase(connection, NullLogger<PostgresDatabase>.Instance);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => database.EnsureMigratedAsync(CancellationToken.None));
        Assert.Contains("9999", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", refused.Message, StringComparison.OrdinalIgnoreCase);

        // A failed migration is not remembered: once the cause is gone, the next use migrates.
        await using (var admin = new NpgsqlConnection(connection))
        {
            await admin.OpenAsync();
            await using var undo = new NpgsqlCommand("DELETE FROM schema_migrations WHERE version = 9999", admin);
            await undo.ExecuteNonQueryAsync();
        }
        await database.EnsureMigratedAsync(CancellationToken.None);
    }

    [Fact]
    public void The_location_shown_names_the_server_and_database_but_never_the_password()
    {
        var database = new PostgresDatabase("Host=db.internal;Port=5433;Database=baton;Username=gw;Password=hunter2-secret", NullLogger<PostgresDatabase>.Instance);

        Assert.Equal("db.internal:5433/baton", database.Location);
        Assert.DoesNotContain("hunter2", database.Location, StringComparison.Ordinal);
    }
}
