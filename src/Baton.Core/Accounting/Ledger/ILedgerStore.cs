namespace Baton.Accounting.Ledger;

/// <summary>
/// Where ledger rows are kept and added up. The <see cref="LedgerWriter"/> batches rows off the request path and
/// hands each batch to <see cref="WriteAsync"/>; <c>/v1/costs</c> reads through <see cref="QueryAsync"/>. The embedded
/// store is a SQLite file; a shared one (PostgreSQL) lets every gateway count every gateway's rows.
/// </summary>
public interface ILedgerStore : IAsyncDisposable
{
    /// <summary>Where the rows are, for log messages: a file path, or the database's host and name (never a password).</summary>
    string Location { get; }

    /// <summary>
    /// Writes rows in one transaction; a row whose <see cref="LedgerEntry.AttemptId"/> is already stored is left out,
    /// so writing the same rows again bills them once. Throws when the rows could not be committed.
    /// </summary>
    ValueTask WriteAsync(IReadOnlyList<LedgerEntry> rows, CancellationToken cancellationToken);

    /// <summary>Adds up the committed rows that match <paramref name="query"/>.</summary>
    ValueTask<CostReport> QueryAsync(CostQuery query, CancellationToken cancellationToken);

    /// <summary>Deletes the rows recorded before <paramref name="before"/> (<c>ledger.retentionDays</c>); how many were deleted.</summary>
    ValueTask<long> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
