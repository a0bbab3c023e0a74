namespace Baton.Batching.Jobs;

/// <summary>
/// The store's <see cref="IBatchJobStore"/> face, over its synchronous methods: SQLite answers from a local file, so
/// each call completes before it returns. The file belongs to one gateway (<see cref="IsShared"/> is false), so leases
/// are always granted.
/// </summary>
public sealed partial class BatchJobStore
{
    /// <inheritdoc/>
    public string Location => Path;

    /// <inheritdoc/>
    public bool IsShared => false;

    Task<StoredFile> IBatchJobStore.AddFileAsync(string purpose, string filename, Stream content, long length, long now, string? owner,
        CancellationToken cancellationToken) => Task.FromResult(AddFile(purpose, filename, content, length, now, owner));

    Task<string?> IBatchJobStore.OwnerOfAsync(string id, CancellationToken cancellationToken) => Task.FromResult(OwnerOf(id));

    Task<StoredFile?> IBatchJobStore.GetFileAsync(string id, CancellationToken cancellationToken) => Task.FromResult(GetFile(id));

    Task<Stream?> IBatchJobStore.OpenFileContentAsync(string id, CancellationToken cancellationToken) => Task.FromResult(OpenFileContent(id));

    Task<StoredPage<StoredFile>> IBatchJobStore.ListFilesAsync(string? purpose, int limit, string? after, string? owner, CancellationToken cancellationToken) =>
        Task.FromResult(ListFiles(purpose, limit, after, owner));

    Task<FileDeletion> IBatchJobStore.DeleteFileAsync(string id, CancellationToken cancellationToken) => Task.FromResult(DeleteFile(id));

    Task<bool> IBatchJobStore.AddBatchAsync(BatchJob job, CancellationToken cancellationToken) => Task.FromResult(AddBatch(job));

    Task<BatchJob?> IBatchJobStore.GetBatchAsync(string id, CancellationToken cancellationToken) => Task.FromResult(GetBatch(id));

    Task<StoredPage<BatchJob>> IBatchJobStore.ListBatchesAsync(int limit, string? after, string? owner, CancellationToken cancellationToken) =>
        Task.FromResult(ListBatches(limit, after, owner));

    Task<IReadOnlyList<BatchJob>> IBatchJobStore.UnfinishedAsync(CancellationToken cancellationToken) => Task.FromResult(Unfinished());

    Task<HashSet<string>> IBatchJobStore.FinishedItemsAsync(string batchId, CancellationToken cancellationToken) => Task.FromResult(FinishedItems(batchId));

    Task<bool> IBatchJobStore.SaveItemAsync(string batchId, int line, string customId, bool failed, byte[] result, string? ledgerRows,
        CancellationToken cancellationToken) => Task.FromResult(SaveItem(batchId, line, customId, failed, result, ledgerRows));

    Task<IReadOnlyList<(long Item, string Rows)>> IBatchJobStore.UndeliveredLedgerRowsAsync(string? batchId, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(UndeliveredLedgerRows(batchId, limit));

    Task IBatchJobStore.MarkLedgerDeliveredAsync(IReadOnlyList<long> items, CancellationToken cancellationToken)
    {
        MarkLedgerDelivered(items);
        return Task.CompletedTask;
    }

    Task<BatchJob?> IBatchJobStore.RequestCancelAsync(string id, long now, CancellationToken cancellationToken) => Task.FromResult(RequestCancel(id, now));

    Task<BatchJob?> IBatchJobStore.FinishAsync(string id, bool expired, long now, IReadOnlyList<BatchJobError>? failure, CancellationToken cancellationToken) =>
        Task.FromResult(Finish(id, expired, now, failure));

    Task<bool> IBatchJobStore.TryLeaseAsync(string batchId, string holder, long nowMs, long untilMs, CancellationToken cancellationToken)
    {
        // The file belongs to one gateway, whose one runner runs one batch at a time: no one else can hold a lease.
        var job = GetBatch(batchId);
        return Task.FromResult(job is not null && BatchStatuses.IsUnfinished(job.Status));
    }

    Task IBatchJobStore.ReleaseLeaseAsync(string batchId, string holder, CancellationToken cancellationToken) => Task.CompletedTask;

    Task<IReadOnlyList<string>> IBatchJobStore.UnleasedAsync(long nowMs, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(Unfinished().Take(limit).Select(job => job.Id).ToList());
}
