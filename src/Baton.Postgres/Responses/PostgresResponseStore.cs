using Baton.Responses;
using Npgsql;

namespace Baton.Postgres.Responses;

/// <summary>
/// Stored responses of the Responses API front in PostgreSQL, so that a response created through one gateway can be
/// read, continued or deleted through any other on the same database. One row per response, its input items and its
/// response object as text, exactly as the SQLite store keeps them; the creation time is Unix milliseconds, as there.
/// </summary>
internal sealed class PostgresResponseStore(PostgresDatabase database) : IResponseStore
{
    public async ValueTask SaveAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            INSERT INTO responses (id, owner, model, created_ms, input_items, response) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, model = excluded.model, created_ms = excluded.created_ms,
                input_items = excluded.input_items, response = excluded.response
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = response.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)response.Owner ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = response.Model });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = response.CreatedAt.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = response.InputItemsJson });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = response.ResponseJson });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StoredResponse?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT id, owner, model, created_ms, input_items, response FROM responses WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        return new StoredResponse(
            reader.GetString(0),
            reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.GetString(2),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
            reader.GetString(4),
            reader.GetString(5));
    }

    public async ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("DELETE FROM responses WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask<int> PurgeAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("DELETE FROM responses WHERE created_ms < $1", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = createdBefore.ToUnixTimeMilliseconds() });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
