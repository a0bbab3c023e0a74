using System.Text.Json;
using Baton.Accounting.Ledger;
using Microsoft.Data.Sqlite;

namespace Baton.Auth;

/// <summary>
/// Virtual keys in Baton's SQLite file: one row per key, under the SHA-256 of its secret, with its settings as
/// JSON. Within the process a semaphore orders callers on the single connection; lookups are rare, since
/// <see cref="KeyRing"/> caches what it finds.
/// </summary>
public sealed class SqliteKeyStore : IKeyStore, IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS api_keys (
            id TEXT PRIMARY KEY,
            secret_hash TEXT NOT NULL UNIQUE,
            settings TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            revoked_ms INTEGER
        );
        """;

    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Opens (creating when missing) the SQLite file at <paramref name="path"/> and its <c>api_keys</c> table.</summary>
    /// <param name="path">The database file: <c>auth.path</c>, else the ledger's, which then holds both tables.</param>
    public SqliteKeyStore(string path)
    {
        _connection = LedgerDatabase.Open(path, Schema, synchronousFull: true);
    }

    /// <inheritdoc/>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">A key with the same id or secret hash exists already.</exception>
    public async ValueTask CreateAsync(VirtualKey key, string secretHash, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO api_keys (id, secret_hash, settings, created_ms, revoked_ms) VALUES ($id, $hash, $settings, $created, $revoked)";
            command.Parameters.AddWithValue("$id", key.Id);
            command.Parameters.AddWithValue("$hash", secretHash);
            AddSettings(command, key);
            command.ExecuteNonQuery();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public ValueTask<VirtualKey?> FindByHashAsync(string secretHash, CancellationToken cancellationToken) =>
        ReadOneAsync("secret_hash = $value", secretHash, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<VirtualKey?> GetAsync(string id, CancellationToken cancellationToken) =>
        ReadOneAsync("id = $value", id, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<VirtualKey>> ListAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT settings FROM api_keys ORDER BY created_ms, id";
            using var reader = command.ExecuteReader();
            var keys = new List<VirtualKey>();
            while (reader.Read())
            {
                keys.Add(Deserialize(reader.GetString(0)));
            }
            return keys;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask<bool> UpdateAsync(VirtualKey key, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "UPDATE api_keys SET settings = $settings, created_ms = $created, revoked_ms = $revoked WHERE id = $id";
            command.Parameters.AddWithValue("$id", key.Id);
            AddSettings(command, key);
            return command.ExecuteNonQuery() == 1;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<VirtualKey?> ReadOneAsync(string where, string value, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT settings FROM api_keys WHERE {where}";
            command.Parameters.AddWithValue("$value", value);
            return command.ExecuteScalar() is string settings ? Deserialize(settings) : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static void AddSettings(SqliteCommand command, VirtualKey key)
    {
        command.Parameters.AddWithValue("$settings", JsonSerializer.Serialize(key, Json));
        command.Parameters.AddWithValue("$created", key.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$revoked", key.RevokedAt is { } revoked ? revoked.ToUnixTimeMilliseconds() : DBNull.Value);
    }

    private static VirtualKey Deserialize(string settings) =>
        JsonSerializer.Deserialize<VirtualKey>(settings, Json) ?? throw new InvalidDataException("A key's settings are empty.");

    /// <summary>Closes the file's connection; the store cannot be used afterwards.</summary>
    public void Dispose()
    {
        _connection.Dispose();
        _gate.Dispose();
    }
}
