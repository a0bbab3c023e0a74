using Baton.Accounting.Ledger;
using Baton.Postgres.Ledger;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Postgres;

/// <summary>Reads the shared ledger outside a gateway (<c>baton costs</c> with <c>postgres.connection</c>).</summary>
public static class PostgresLedger
{
    /// <summary>Adds up the rows of the ledger in the database <paramref name="connection"/> names that match <paramref name="query"/>.</summary>
    public static async Task<CostReport> QueryAsync(string connection, CostQuery query, CancellationToken cancellationToken)
    {
        await using var database = new PostgresDatabase(connection, NullLogger<PostgresDatabase>.Instance);
        return await new PostgresLedgerStore(database).QueryAsync(query, cancellationToken).ConfigureAwait(false);
    }
}
