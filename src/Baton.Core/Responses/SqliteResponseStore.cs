using Baton.Accounting.Ledger;
using Microsoft.Data.Sqlite;

namespace Baton.Responses;

/// <summary>
/// Stored responses in Baton's SQLite file (WAL mode): one row per response, its input items and its response object
/// as JSON text. Within the process a semaphore orders callers on the single connection. The file is created by the
/// first response stored: reads, deletes and purges before that answer empty without creating it.
/// </summary>
internal sealed class SqliteResponseStore : IResponseStore, IDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS responses (
            id TEXT PRIMARY KEY,
            owner TEXT,
            model TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            input_items TEXT NOT NULL,
            response TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS responses_created ON responses (created_ms);
        """;

    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;

    public SqliteResponseStore(string path)
    {
        _path = Path.GetFullPath(path);
    }

    /// <summary>The open connection; null (nothing stored yet) when the file does not exist and <paramref name="create"/> is false.</summary>
    private SqliteConnection? Connection(bool create)
    {
        if (_connection is null && (create || File.Exists(_path)))
        {
            // NORMAL: a stored response survives a killed process; only a power cut may lose the last ones.
            _connection = LedgerDatabase.Open(_path, Schema, synchronousFull: false);
        }
        return _connection;
    }

    public async ValueTask SaveAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = Connection(create: true)!.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO responses (id, owner, model, created_ms, input_items, response) " +
                "VALUES ($id, $owner, $model, $created, $input, $response)";
            command.Parameters.AddWithValue("$id", response.Id);
            command.Parameters.AddWithValue("$owner", (object?)response.Owner ?? DBNull.Value);
            command.Parameters.AddWithValue("$model", response.Model);
            command.Parameters.AddWithValue("$created", response.CreatedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$input", response.InputItemsJson);
            command.Parameters.AddWithValue("$response", response.ResponseJson);
            command.ExecuteNonQuery();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<StoredResponse?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Connection(create: false) is not { } connection)
            {
                return null;
            }
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, owner, model, created_ms, input_items, response FROM responses WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
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
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Connection(create: false) is not { } connection)
            {
                return false;
            }
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM responses WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteNonQuery() == 1;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<int> PurgeAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Connection(create: false) is not { } connection)
            {
                return 0;
            }
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM responses WHERE created_ms < $before";
            command.Parameters.AddWithValue("$before", createdBefore.ToUnixTimeMilliseconds());
            return command.ExecuteNonQuery();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _gate.Dispose();
    }
}
