namespace Baton.Batching.Jobs;

/// <summary>
/// Where the Batches API keeps its files, batches and answered items: the embedded SQLite file of one gateway, or a
/// database every gateway shares. An answered item is stored once (by its batch and <c>custom_id</c>) with its ledger
/// rows; a batch is run by the gateway that holds its lease, renewed while it works, and taken over by another once
/// the lease has expired (its holder died).
/// </summary>
public interface IBatchJobStore
{
    /// <summary>Where the store is, for messages (a file path, or a server and database; never a password).</summary>
    string Location { get; }

    /// <summary>
    /// True when other gateways share the store (and may start batches, or die running them): a gateway then looks
    /// for batches no one holds a lease on, besides the ones it queued itself.
    /// </summary>
    bool IsShared { get; }

    /// <summary>
    /// Stores a file of <paramref name="length"/> bytes read from <paramref name="content"/> in pieces; a stream that
    /// ends early stores nothing (it throws <see cref="EndOfStreamException"/>).
    /// </summary>
    /// <param name="purpose">The file's purpose.</param>
    /// <param name="filename">The name it was uploaded under.</param>
    /// <param name="content">Its bytes, read once.</param>
    /// <param name="length">How many bytes it holds.</param>
    /// <param name="now">Unix seconds.</param>
    /// <param name="owner">The caller that uploaded it (a key id); null without authentication.</param>
    /// <param name="cancellationToken">Stops the upload, storing nothing.</param>
    Task<StoredFile> AddFileAsync(string purpose, string filename, Stream content, long length, long now, string? owner, CancellationToken cancellationToken);

    /// <summary>The caller that created a file or batch; null when it has none.</summary>
    Task<string?> OwnerOfAsync(string id, CancellationToken cancellationToken);

    /// <summary>A file's description; null when unknown.</summary>
    Task<StoredFile?> GetFileAsync(string id, CancellationToken cancellationToken);

    /// <summary>A file's content, read in pieces as it was when opened; null when unknown. Dispose it.</summary>
    Task<Stream?> OpenFileContentAsync(string id, CancellationToken cancellationToken);

    /// <summary>A page of files, newest first, of one purpose (all when null) and one owner (all when null).</summary>
    Task<StoredPage<StoredFile>> ListFilesAsync(string? purpose, int limit, string? after, string? owner, CancellationToken cancellationToken);

    /// <summary>Deletes a file, unless it is the input of a batch that has not ended.</summary>
    Task<FileDeletion> DeleteFileAsync(string id, CancellationToken cancellationToken);

    /// <summary>Stores a batch; false, storing nothing, when its input file is gone.</summary>
    Task<bool> AddBatchAsync(BatchJob job, CancellationToken cancellationToken);

    /// <summary>A batch; null when unknown.</summary>
    Task<BatchJob?> GetBatchAsync(string id, CancellationToken cancellationToken);

    /// <summary>A page of batches, newest first, of one owner (all when null).</summary>
    Task<StoredPage<BatchJob>> ListBatchesAsync(int limit, string? after, string? owner, CancellationToken cancellationToken);

    /// <summary>Batches with work left, oldest first.</summary>
    Task<IReadOnlyList<BatchJob>> UnfinishedAsync(CancellationToken cancellationToken);

    /// <summary>The custom ids of a batch already answered.</summary>
    Task<HashSet<string>> FinishedItemsAsync(string batchId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores one answered item with its ledger rows (JSON) and counts it, at once; false, storing nothing, for an item
    /// stored before (by this gateway or another) or of a batch that has already ended.
    /// </summary>
    Task<bool> SaveItemAsync(string batchId, int line, string customId, bool failed, byte[] result, string? ledgerRows, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> stored items whose ledger rows are not yet confirmed, of one batch or of all.</summary>
    Task<IReadOnlyList<(long Item, string Rows)>> UndeliveredLedgerRowsAsync(string? batchId, int limit, CancellationToken cancellationToken);

    /// <summary>Forgets the ledger rows of these items: the ledger has committed them.</summary>
    Task MarkLedgerDeliveredAsync(IReadOnlyList<long> items, CancellationToken cancellationToken);

    /// <summary>Moves a batch in progress to <c>cancelling</c>; the batch as it is afterwards, null when unknown.</summary>
    Task<BatchJob?> RequestCancelAsync(string id, long now, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a batch at once: its answers become its output and error files, in input order, and its status its end
    /// (<c>failed</c> with <paramref name="failure"/>, <c>cancelled</c>, <c>expired</c> or <c>completed</c>). A batch
    /// already ended is answered as it is.
    /// </summary>
    Task<BatchJob?> FinishAsync(string id, bool expired, long now, IReadOnlyList<BatchJobError>? failure, CancellationToken cancellationToken);

    /// <summary>
    /// Takes or renews the lease on an unfinished batch for <paramref name="holder"/> until <paramref name="untilMs"/>
    /// (Unix milliseconds): true when no one else holds an unexpired one (at <paramref name="nowMs"/>). Only the holder
    /// runs the batch.
    /// </summary>
    Task<bool> TryLeaseAsync(string batchId, string holder, long nowMs, long untilMs, CancellationToken cancellationToken);

    /// <summary>Gives up a lease this holder has (its run stopped), so another gateway can take the batch at once.</summary>
    Task ReleaseLeaseAsync(string batchId, string holder, CancellationToken cancellationToken);

    /// <summary>Unfinished batches no one holds an unexpired lease on (at <paramref name="nowMs"/>), oldest first.</summary>
    Task<IReadOnlyList<string>> UnleasedAsync(long nowMs, int limit, CancellationToken cancellationToken);
}
