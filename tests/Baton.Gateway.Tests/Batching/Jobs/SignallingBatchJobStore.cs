using Baton.Batching;
using Baton.Batching.Jobs;

namespace Baton.Gateway.Tests.Batching.Jobs;

/// <summary>
/// A batch jobs store that says when it has changed: every call that writes completes <see cref="StoreChanges.Next"/>
/// once the inner store has done it, so a test waits for a batch's next step on that signal instead of polling (the
/// batches run on the gateway's own loop, whatever the clock does).
/// </summary>
internal sealed class SignallingBatchJobStore(IBatchJobStore inner, StoreChanges changes) : IBatchJobStore, IDisposable
{
    public string Location => inner.Location;

    public bool IsShared => inner.IsShared;

    public Task<StoredFile> AddFileAsync(string purpose, string filename, Stream content, long length, long now, string? owner, CancellationToken cancellationToken) =>
        changes.After(inner.AddFileAsync(purpose, filename, content, length, now, owner, cancellationToken));

    public Task<string?> OwnerOfAsync(string id, CancellationToken cancellationToken) => inner.OwnerOfAsync(id, cancellationToken);

    public Task<StoredFile?> GetFileAsync(string id, CancellationToken cancellationToken) => inner.GetFileAsync(id, cancellationToken);

    public Task<Stream?> OpenFileContentAsync(string id, CancellationToken cancellationToken) => inner.OpenFileContentAsync(id, cancellationToken);

    public Task<StoredPage<StoredFile>> ListFilesAsync(string? purpose, int limit, string? after, string? owner, CancellationToken cancellationToken) =>
        inner.ListFilesAsync(purpose, limit, after, owner, cancellationToken);

    public Task<FileDeletion> DeleteFileAsync(string id, CancellationToken cancellationToken) => changes.After(inner.DeleteFileAsync(id, cancellationToken));

    public Task<bool> AddBatchAsync(BatchJob job, CancellationToken cancellationToken) => changes.After(inner.AddBatchAsync(job, cancellationToken));

    public Task<BatchJob?> GetBatchAsync(string id, CancellationToken cancellationToken) => inner.GetBatchAsync(id, cancellationToken);

    public Task<StoredPage<BatchJob>> ListBatchesAsync(int limit, string? after, string? owner, CancellationToken cancellationToken) =>
        inner.ListBatchesAsync(limit, after, owner, cancellationToken);

    public Task<IReadOnlyList<BatchJob>> UnfinishedAsync(CancellationToken cancellationToken) => inner.UnfinishedAsync(cancellationToken);

    public Task<HashSet<string>> FinishedItemsAsync(string batchId, CancellationToken cancellationToken) => inner.FinishedItemsAsync(batchId, cancellationToken);

    public Task<bool> SaveItemAsync(string batchId, int line, string customId, bool failed, byte[] result, string? ledgerRows, CancellationToken cancellationToken) =>
        changes.After(inner.SaveItemAsync(batchId, line, customId, failed, result, ledgerRows, cancellationToken));

    public Task<IReadOnlyList<(long Item, string Rows)>> UndeliveredLedgerRowsAsync(string? batchId, int limit, CancellationToken cancellationToken) =>
        inner.UndeliveredLedgerRowsAsync(batchId, limit, cancellationToken);

    public Task MarkLedgerDeliveredAsync(IReadOnlyList<long> items, CancellationToken cancellationToken) =>
        changes.After(inner.MarkLedgerDeliveredAsync(items, cancellationToken));

    public Task<BatchJob?> RequestCancelAsync(string id, long now, CancellationToken cancellationToken) =>
        changes.After(inner.RequestCancelAsync(id, now, cancellationToken));

    public Task<BatchJob?> FinishAsync(string id, bool expired, long now, IReadOnlyList<BatchJobError>? failure, CancellationToken cancellationToken) =>
        changes.After(inner.FinishAsync(id, expired, now, failure, cancellationToken));

    public Task<bool> TryLeaseAsync(string batchId, string holder, long nowMs, long untilMs, CancellationToken cancellationToken) =>
        inner.TryLeaseAsync(batchId, holder, nowMs, untilMs, cancellationToken);

    public Task ReleaseLeaseAsync(string batchId, string holder, CancellationToken cancellationToken) => inner.ReleaseLeaseAsync(batchId, holder, cancellationToken);

    public Task<IReadOnlyList<string>> UnleasedAsync(long nowMs, int limit, CancellationToken cancellationToken) => inner.UnleasedAsync(nowMs, limit, cancellationToken);

    public void Dispose() => (inner as IDisposable)?.Dispose();
}

/// <summary>The changes of a batch jobs store, as a signal that outlives the gateway (a test may restart it on the same files).</summary>
internal sealed class StoreChanges
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next change; take it before looking at the store, so that a change made meanwhile is not missed.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Signals the change <paramref name="write"/> makes, once it is done (failed or not: the store may have changed).</summary>
    public async Task<T> After<T>(Task<T> write)
    {
        try
        {
            return await write;
        }
        finally
        {
            Signal();
        }
    }

    /// <inheritdoc cref="After{T}(Task{T})"/>
    public async Task After(Task write)
    {
        try
        {
            await write;
        }
        finally
        {
            Signal();
        }
    }

    private void Signal() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
