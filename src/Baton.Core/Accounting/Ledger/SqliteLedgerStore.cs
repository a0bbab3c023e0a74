using Microsoft.Data.Sqlite;

namespace Baton.Accounting.Ledger;

/// <summary>
/// The ledger in Baton's SQLite file: one connection for the single writer, with the INSERT prepared once
/// (<see cref="LedgerInsert"/>); queries and purges open their own connection, so reading never waits on the writer.
/// The writer's connection commits with <c>synchronous=NORMAL</c>: in WAL mode a commit then costs no sync of its own
/// (the WAL is synced at checkpoints), a killed process still keeps every committed batch, and a power cut may lose
/// the last batches committed before it, as it would lose the rows still queued in memory anyway. Its page cache is
/// larger than SQLite's 2 MB default, so the index pages a batch touches in a file of millions of rows stay in memory.
/// </summary>
internal sealed class SqliteLedgerStore : ILedgerStore
{
    private readonly SqliteConnection _connection;
    private LedgerInsert? _insert;

    public SqliteLedgerStore(string path)
    {
        Location = path;
        _connection = LedgerDatabase.Open(path, synchronousFull: false);
        try
        {
            using var cache = _connection.CreateCommand();
            cache.CommandText = $"PRAGMA cache_size=-{CacheKilobytes}";
            cache.ExecuteNonQuery();
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>The writer connection's page cache (SQLite's default is 2,000 KiB).</summary>
    private const int CacheKilobytes = 16 * 1024;

    public string Location { get; }

    /// <remarks>Called by the writer's single loop only: the prepared statement is not thread-safe.</remarks>
    public ValueTask WriteAsync(IReadOnlyList<LedgerEntry> rows, CancellationToken cancellationToken)
    {
        using var transaction = _connection.BeginTransaction();
        _insert ??= new LedgerInsert(_connection);
        _insert.Execute(rows);
        transaction.Commit();
        return ValueTask.CompletedTask;
    }

    public ValueTask<CostReport> QueryAsync(CostQuery query, CancellationToken cancellationToken) =>
        ValueTask.FromResult(LedgerQuery.Run(Location, query));

    public ValueTask<long> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        using var connection = LedgerDatabase.Open(Location);
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM ledger WHERE time_ms < $before";
        command.Parameters.AddWithValue("$before", before.ToUnixTimeMilliseconds());
        return ValueTask.FromResult((long)command.ExecuteNonQuery());
    }

    public async ValueTask DisposeAsync()
    {
        _insert?.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
