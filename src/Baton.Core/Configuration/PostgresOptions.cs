namespace Baton.Configuration;

/// <summary>
/// The shared database of several gateways. See docs/distributed.md. When <see cref="Connection"/> is set, virtual
/// keys, the cost ledger and budget counters live in PostgreSQL, so every gateway using the same database sees the same keys and
/// counts every gateway's spending; without it they live in the embedded SQLite file.
/// </summary>
public sealed class PostgresOptions
{
    /// <summary>
    /// An Npgsql connection string (<c>Host=db;Database=baton;Username=baton;Password=...</c>). It may hold a password:
    /// it is never logged or shown, and is best given through the environment (<c>Baton__Postgres__Connection</c>).
    /// </summary>
    public string? Connection { get; set; }

    /// <summary>True when a connection string is set.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Connection);
}
