using System.Text.Json;
using Baton.Auth;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Baton.Postgres.Auth;

/// <summary>
/// Virtual keys in PostgreSQL, shared by every gateway on the database: one row per key under the SHA-256 of its
/// secret, its settings as JSON. Every change is announced with <c>NOTIFY baton_keys</c> in its own transaction, and
/// each gateway <c>LISTEN</c>s on a connection of its own (<see cref="KeyChangeListener"/>): a key revoked on one
/// gateway is refused by all as soon as the notification arrives, within milliseconds.
/// </summary>
internal sealed class PostgresKeyStore : IKeyStore, INotifyingKeyStore, IAsyncDisposable
{
    /// <summary>The channel of key changes; the payload is the key's id.</summary>
    public const string Channel = "baton_keys";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly PostgresDatabase _database;
    private readonly KeyChangeListener _listener;

    public PostgresKeyStore(PostgresDatabase database, TimeProvider time, ILogger<PostgresKeyStore> logger)
    {
        _database = database;
        _listener = new KeyChangeListener(database, Channel, time, logger, () => KeysChanged?.Invoke(this, EventArgs.Empty));
    }

    public event EventHandler? KeysChanged;

    /// <summary>Completes once this process listens for changes (tests wait for it before changing keys elsewhere).</summary>
    public Task Listening => _listener.Listening;

    public async ValueTask CreateAsync(VirtualKey key, string secretHash, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            WITH added AS (
                INSERT INTO api_keys (id, secret_hash, settings, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5) RETURNING id
            )
            SELECT pg_notify($6, id) FROM added
            """, connection);
        command.Parameters.Add(Text(key.Id));
        command.Parameters.Add(Text(secretHash));
        AddSettings(command, key);
        command.Parameters.Add(Text(Channel));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<VirtualKey?> FindByHashAsync(string secretHash, CancellationToken cancellationToken) =>
        ReadOneAsync("secret_hash = $1", secretHash, cancellationToken);

    public ValueTask<VirtualKey?> GetAsync(string id, CancellationToken cancellationToken) =>
        ReadOneAsync("id = $1", id, cancellationToken);

    public async ValueTask<IReadOnlyList<VirtualKey>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT settings::text FROM api_keys ORDER BY created_at, id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var keys = new List<VirtualKey>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            keys.Add(Deserialize(reader.GetString(0)));
        }
        return keys;
    }

    public async ValueTask<bool> UpdateAsync(VirtualKey key, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        // The notification is sent only if the row changed, and only when the update commits.
        await using var command = new NpgsqlCommand("""
            WITH changed AS (
                UPDATE api_keys SET settings = $2, created_at = $3, revoked_at = $4 WHERE id = $1 RETURNING id
            )
            SELECT count(*) FROM (SELECT pg_notify($5, id) FROM changed) notified
            """, connection);
        command.Parameters.Add(Text(key.Id));
        AddSettings(command, key);
        command.Parameters.Add(Text(Channel));
        return (long)(await command.ExecuteBufferedScalarAsync(cancellationToken).ConfigureAwait(false))! == 1;
    }

    private async ValueTask<VirtualKey?> ReadOneAsync(string where, string value, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT settings::text FROM api_keys WHERE {where}", connection);
        command.Parameters.Add(Text(value));
        return await command.ExecuteBufferedScalarAsync(cancellationToken).ConfigureAwait(false) is string settings ? Deserialize(settings) : null;
    }

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    private static void AddSettings(NpgsqlCommand command, VirtualKey key)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(key, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = key.CreatedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = key.RevokedAt is { } revoked ? revoked.UtcDateTime : DBNull.Value,
            NpgsqlDbType = NpgsqlDbType.TimestampTz,
        });
    }

    private static VirtualKey Deserialize(string settings) =>
        JsonSerializer.Deserialize<VirtualKey>(settings, Json) ?? throw new InvalidDataException("A key's settings are empty.");

    public ValueTask DisposeAsync() => _listener.DisposeAsync();
}
