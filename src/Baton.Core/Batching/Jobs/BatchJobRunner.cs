using System.Text.Json;
using Baton.Accounting.Ledger;
using Microsoft.Extensions.Logging;

namespace Baton.Batching.Jobs;

/// <summary>
/// Creates and runs the Batches API's batches. A batch is validated when it is created (a line that is not a request
/// fails it at once, as OpenAI does; a request whose body is refused fails alone, as an error line); running it
/// answers each item through <see cref="BatchExecutor"/> (<c>batch.maxConcurrency</c> at a time) and stores each answer as it
/// finishes, so a run stopped by shutdown carries on later without asking any finished item again. An item that
/// fails, for whatever reason, fails alone and is never asked again. Cancelling stops the items in flight; passing
/// <c>expires_at</c> ends the batch <c>expired</c>; both keep the answers already given in the output and error files.
/// <para>
/// Each item is stored with its ledger rows in one transaction, then the rows are handed to the ledger, and are
/// forgotten by the store only once the ledger has committed them (delivered again after a crash, kept once by their
/// attempt ids): an answered item is billed exactly once, however the process ends.
/// </para>
/// </summary>
public sealed partial class BatchJobRunner(
    IBatchJobStore store, BatchJobQueue queue, BatchExecutor executor, ILogger<BatchJobRunner> logger,
    Auth.IKeyStore? keys = null, TimeSpan? lease = null)
{
    /// <summary>How long a lease on a batch lasts unless renewed (<c>batch.leaseSeconds</c>): a dead gateway's batch waits this long.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(30);

    /// <summary>The only endpoint a batch (and each of its lines) may name.</summary>
    public const string Endpoint = BatchLine.ChatCompletionsUrl;

    /// <summary>The only completion window OpenAI offers.</summary>
    public const string CompletionWindow = "24h";

    private static readonly TimeSpan Window = TimeSpan.FromHours(24);

    /// <summary>How many items' ledger rows are delivered to the ledger in one confirmed write.</summary>
    private const int DeliveryChunk = 500;

    private static readonly JsonSerializerOptions LedgerJson = new();

    private readonly LedgerWriter? _ledger = executor.Engine.Accounting?.Ledger;

    private readonly TimeSpan _lease = lease is { } given && given > TimeSpan.Zero ? given : DefaultLease;

    /// <summary>Who holds this runner's leases: unique to the process, so a restarted gateway does not inherit its predecessor's.</summary>
    private readonly string _holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// <summary>Where the batches, their files and their answered items are kept.</summary>
    public IBatchJobStore Store => store;

    /// <summary>How long a lease lasts unless renewed.</summary>
    public TimeSpan Lease => _lease;

    /// <summary>The batches waiting to run, and the cancellation of running ones.</summary>
    public BatchJobQueue Queue => queue;

    /// <summary>The clock of batch times, expiry and retry delays (the engine's).</summary>
    public TimeProvider Time => executor.Time;

    /// <summary>The current time of <see cref="Time"/>, in Unix seconds (the unit of every batch and file time).</summary>
    public long Now => Time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// Validates the input file and stores the batch: <c>failed</c> with the reasons, or <c>in_progress</c> and
    /// queued; null, storing nothing, when the input file has been deleted meanwhile.
    /// </summary>
    public async Task<BatchJob?> CreateAsync(StoredFile input, IReadOnlyDictionary<string, string>? metadata, string? owner, CancellationToken cancellationToken)
    {
        var now = Now;
        IReadOnlyList<BatchJobItem> items;
        IReadOnlyList<BatchJobError> errors;
        await using (var content = await store.OpenFileContentAsync(input.Id, cancellationToken).ConfigureAwait(false))
        {
            if (content is null)
            {
                return null;
            }
            (items, errors) = await BatchJobInput.ReadAsync(content, cancellationToken).ConfigureAwait(false);
        }
        var failed = errors.Count > 0;
        var job = new BatchJob
        {
            Id = "batch_" + Guid.NewGuid().ToString("N"),
            Endpoint = BatchLine.ChatCompletionsUrl,
            InputFileId = input.Id,
            CompletionWindow = CompletionWindow,
            Status = failed ? BatchStatuses.Failed : BatchStatuses.InProgress,
            Errors = failed ? errors : null,
            CreatedAt = now,
            InProgressAt = failed ? null : now,
            ExpiresAt = now + (long)Window.TotalSeconds,
            FailedAt = failed ? now : null,
            Total = failed ? 0 : items.Count,
            Metadata = metadata,
            Owner = owner,
        };
        if (!await store.AddBatchAsync(job, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        if (!failed)
        {
            queue.Enqueue(job.Id);
        }
        return job;
    }

    /// <summary>
    /// Asks a batch to stop: a running one stops its items in flight and ends <c>cancelled</c> shortly; one still
    /// waiting ends <c>cancelled</c> at once. The batch as it is afterwards; null when unknown.
    /// </summary>
    public async Task<BatchJob?> CancelAsync(string batchId, CancellationToken cancellationToken)
    {
        var job = await store.RequestCancelAsync(batchId, Now, cancellationToken).ConfigureAwait(false);
        if (job is { Status: BatchStatuses.Cancelling } && !queue.Cancel(batchId))
        {
            // Not running here (yet): the runner, were it starting now, sees the status after registering and stops; a
            // gateway running it elsewhere finds it ended at its next lease renewal, and its later answers are not stored.
            job = await store.FinishAsync(batchId, expired: false, Now, null, cancellationToken).ConfigureAwait(false);
        }
        return job;
    }

    /// <summary>
    /// Ends a batch whose runs kept failing: <c>failed</c>, with the reason in <c>errors</c> and the answers stored so
    /// far in its output and error files. The batch as it is afterwards; null when unknown.
    /// </summary>
    public async Task<BatchJob?> FailRunAsync(string batchId, int runs, Exception error, CancellationToken cancellationToken)
    {
        var job = await store.FinishAsync(batchId, expired: false, Now,
            [new BatchJobError("batch_run_failed", $"The batch could not be run ({runs} attempts): {Describe(error)}", null, null)], cancellationToken).ConfigureAwait(false);
        Finished(job);
        return job;
    }

    /// <summary>
    /// Runs one batch to its end, or until <paramref name="stopping"/> (the batch then stays unfinished in the
    /// store, to be resumed). The batch runs only under this runner's lease, renewed while it works: a batch another
    /// gateway holds is left to it, and a run whose lease is lost (taken over after this gateway stalled past its
    /// expiry) stops, its stored answers kept.
    /// </summary>
    public async Task RunAsync(string batchId, CancellationToken stopping)
    {
        var job = await store.GetBatchAsync(batchId, stopping).ConfigureAwait(false);
        if (job is null || !BatchStatuses.IsUnfinished(job.Status))
        {
            return;
        }
        if (!await TryLeaseAsync(batchId, stopping).ConfigureAwait(false))
        {
            Log.LeasedElsewhere(logger, batchId);
            return;
        }
        try
        {
            await RunLeasedAsync(job, stopping).ConfigureAwait(false);
        }
        finally
        {
            // Ended, paused or failed: another gateway may take it at once rather than after the lease expires.
            await ReleaseLeaseAsync(batchId).ConfigureAwait(false);
        }
    }

    private async Task RunLeasedAsync(BatchJob job, CancellationToken stopping)
    {
        var batchId = job.Id;
        if (job.Status is BatchStatuses.Cancelling || Now >= job.ExpiresAt)
        {
            Finished(await store.FinishAsync(batchId, expired: Now >= job.ExpiresAt, Now, null, stopping).ConfigureAwait(false));
            return;
        }
        IReadOnlyList<BatchJobItem> items;
        await using (var content = await store.OpenFileContentAsync(job.InputFileId, stopping).ConfigureAwait(false))
        {
            if (content is null)
            {
                // The answers stored before the file went are kept in the batch's output and error files.
                await TryDeliverLedgerRowsAsync(batchId, stopping).ConfigureAwait(false);
                Finished(await store.FinishAsync(batchId, expired: false, Now,
                    [new BatchJobError("input_file_missing", $"The input file {job.InputFileId} was deleted before the batch finished.", "input_file_id", null)],
                    stopping).ConfigureAwait(false));
                return;
            }
            items = (await BatchJobInput.ReadAsync(content, stopping).ConfigureAwait(false)).Items;
        }
        if (await OwnerOptionsAsync(job.Owner, stopping).ConfigureAwait(false) is not { } caller)
        {
            Finished(await store.FinishAsync(batchId, expired: false, Now,
                [new BatchJobError("invalid_api_key", "The key that created the batch has been revoked or has expired; its remaining lines were not run.", null, null)],
                stopping).ConfigureAwait(false));
            return;
        }
        var finished = await store.FinishedItemsAsync(batchId, stopping).ConfigureAwait(false);
        var pending = items.Where(item => !finished.Contains(item.CustomId)).ToList();
        Log.Running(logger, batchId, pending.Count, finished.Count);

        using var cancel = queue.Register(batchId);
        if (await store.GetBatchAsync(batchId, stopping).ConfigureAwait(false) is not { Status: BatchStatuses.InProgress })
        {
            // Cancelled between being read and being registered: the cancel did not see it running.
            Finished(await store.FinishAsync(batchId, expired: false, Now, null, stopping).ConfigureAwait(false));
            return;
        }
        using var expiry = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(0, job.ExpiresAt - Now)), Time);
        using var leaseLost = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, cancel.Token, expiry.Token, leaseLost.Token);
        using var renewing = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
        var renewal = RenewLeaseAsync(batchId, cancel, leaseLost, renewing.Token);
        try
        {
            // Stopped, cancelled, expired or taken over: the executor returns, every answer stored so far kept.
            await executor.RunAsync(Entries(pending, caller), new JobItems(this, batchId, pending), linked.Token).ConfigureAwait(false);
        }
        finally
        {
            await renewing.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
        }
        if (leaseLost.IsCancellationRequested && !cancel.Token.IsCancellationRequested)
        {
            Log.LeaseLost(logger, batchId);
            return;
        }
        if (stopping.IsCancellationRequested && !cancel.Token.IsCancellationRequested && !expiry.IsCancellationRequested)
        {
            Log.Paused(logger, batchId);
            return;
        }
        await TryDeliverLedgerRowsAsync(batchId, stopping).ConfigureAwait(false);
        Finished(await store.FinishAsync(batchId, expired: expiry.IsCancellationRequested || Now >= job.ExpiresAt, Now, null, stopping).ConfigureAwait(false));
    }

    private Task<bool> TryLeaseAsync(string batchId, CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        return store.TryLeaseAsync(batchId, _holder, now.ToUnixTimeMilliseconds(), (now + _lease).ToUnixTimeMilliseconds(), cancellationToken);
    }

    private async Task ReleaseLeaseAsync(string batchId)
    {
        try
        {
            await store.ReleaseLeaseAsync(batchId, _holder, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The lease expires by itself; until then no other gateway takes the batch.
            Log.ReleaseFailed(logger, ex, batchId);
        }
    }

    /// <summary>
    /// Renews the lease every third of its length while the batch runs. A lease another gateway has taken meanwhile
    /// stops the run (<paramref name="leaseLost"/>); a batch cancelled on another gateway stops it as a local cancel
    /// does. A renewal that fails (the database is briefly unreachable) is tried again at the next tick: the lease
    /// lasts three ticks.
    /// </summary>
    private async Task RenewLeaseAsync(string batchId, BatchJobQueue.Registration cancel, CancellationTokenSource leaseLost, CancellationToken token)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_lease / 3, Time, token).ConfigureAwait(false);
                try
                {
                    if (!await TryLeaseAsync(batchId, token).ConfigureAwait(false))
                    {
                        // Ended elsewhere (cancelled, say) or taken over: this run must store nothing more.
                        var current = await store.GetBatchAsync(batchId, token).ConfigureAwait(false);
                        if (current is not null && !BatchStatuses.IsUnfinished(current.Status))
                        {
                            queue.Cancel(batchId);
                        }
                        else
                        {
                            await leaseLost.CancelAsync().ConfigureAwait(false);
                        }
                        return;
                    }
                    if (store.IsShared && await store.GetBatchAsync(batchId, token).ConfigureAwait(false) is { Status: BatchStatuses.Cancelling })
                    {
                        queue.Cancel(batchId);
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.RenewalFailed(logger, ex, batchId);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The run has ended.
        }
    }

    /// <summary>
    /// Delivers a batch's pending ledger rows before it ends; a ledger that cannot be written does not fail the batch,
    /// whose answers are all stored: its rows stay in the jobs database, delivered at the next start.
    /// </summary>
    private async Task TryDeliverLedgerRowsAsync(string batchId, CancellationToken stopping)
    {
        try
        {
            await DeliverLedgerRowsAsync(batchId, stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.DeliveryDeferred(logger, ex, batchId);
        }
    }

    /// <summary>
    /// Hands the ledger every stored item's rows it has not confirmed (of one batch, or of all), and forgets them once
    /// it has committed them. Rows it holds already are kept once (by attempt id), so delivering twice bills once. Run
    /// at start for what a killed process left, and before a batch ends. A ledger that cannot be written throws: the
    /// rows stay stored, to be delivered by the next try.
    /// </summary>
    public async Task DeliverLedgerRowsAsync(string? batchId, CancellationToken cancellationToken)
    {
        if (_ledger is null)
        {
            return;
        }
        while (await store.UndeliveredLedgerRowsAsync(batchId, DeliveryChunk, cancellationToken).ConfigureAwait(false) is { Count: > 0 } items)
        {
            var rows = items.SelectMany(item => JsonSerializer.Deserialize<List<LedgerEntry>>(item.Rows, LedgerJson) ?? []).ToList();
            await _ledger.RecordAsync(rows, cancellationToken).ConfigureAwait(false);
            await store.MarkLedgerDeliveredAsync(items.Select(item => item.Item).ToList(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The items to ask: every line runs as the batch's creator (its key's models, limits and budget, and its id in the
    /// ledger), and collects the ledger rows it bills, to be stored with its answer.
    /// </summary>
    private List<BatchEntry> Entries(List<BatchJobItem> pending, Requests.BatonRequestOptions caller)
    {
        var entries = new List<BatchEntry>(pending.Count);
        foreach (var item in pending)
        {
            if (item.Request is { } request)
            {
                request.Options = request.Options.Over(caller);
                if (_ledger is not null)
                {
                    request.LedgerRows = new();
                }
            }
            entries.Add(new BatchEntry(item.CustomId, item.Request, item.Refusal));
        }
        return entries;
    }

    /// <summary>Stores each item's answer with its ledger rows as it finishes; an item stopped meanwhile is left to be asked again.</summary>
    private sealed class JobItems(BatchJobRunner runner, string batchId, List<BatchJobItem> pending) : BatchSink<BatchLineResult>
    {
        public override string Name => "Batch " + batchId;

        public override BatchLineResult Shape(BatchAnswer answer) => BatchLine.Result(answer);

        public override async ValueTask StoreAsync(BatchAnswer answer, BatchLineResult result)
        {
            var item = pending[answer.Index];
            var rows = Rows(answer.Entry);
            try
            {
                // Stored with the item; handed to the ledger below, and confirmed before the batch ends (or at the next
                // start). When it is not stored (the batch ended meanwhile, or the store failed and the item will be asked
                // again), the answer is dropped, but the tokens it billed are recorded all the same.
                await runner.Store.SaveItemAsync(batchId, item.Line, item.CustomId, result.Failed, result.Line,
                    rows is null ? null : JsonSerializer.Serialize(rows, LedgerJson), CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                runner.Record(rows);
            }
        }

        /// <summary>Stopped before it was answered: it is asked again on resume; what it billed before it stopped is recorded all the same.</summary>
        public override void Interrupted(int index, BatchEntry entry) => runner.Record(Rows(entry));

        private static List<LedgerEntry>? Rows(BatchEntry entry) => entry.Request?.LedgerRows is { IsEmpty: false } captured ? captured.ToList() : null;
    }

    private void Record(List<LedgerEntry>? rows)
    {
        if (rows is null || _ledger is null)
        {
            return;
        }
        foreach (var row in rows)
        {
            _ledger.TryRecord(row);
        }
    }

    /// <summary>The options a batch's lines carry for its owner; null when the owner's key can no longer be used.</summary>
    private async ValueTask<Requests.BatonRequestOptions?> OwnerOptionsAsync(string? owner, CancellationToken cancellationToken)
    {
        if (owner is null)
        {
            return Requests.BatonRequestOptions.Empty;
        }
        if (owner == Auth.CallerIdentity.MasterId || keys is null)
        {
            return new Requests.BatonRequestOptions { ApiKeyId = owner };
        }
        var key = await keys.GetAsync(owner, cancellationToken).ConfigureAwait(false);
        return key is not null && key.IsActive(Time.GetUtcNow()) ? new Requests.BatonRequestOptions { ApiKeyId = key.Id, Key = key } : null;
    }

    /// <summary>A store's error says what went wrong; any other is a defect, whose details stay in the log.</summary>
    private static string Describe(Exception error) =>
        error is System.Data.Common.DbException or IOException or UnauthorizedAccessException ? error.Message : "an internal error (logged by the gateway)";

    private void Finished(BatchJob? job)
    {
        if (job is not null)
        {
            Log.Finished(logger, job.Id, job.Status, job.Completed, job.Failed);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Batch {BatchId}: running {Pending} items ({Finished} already answered)")]
        public static partial void Running(ILogger logger, string batchId, int pending, int finished);

        [LoggerMessage(2, LogLevel.Information, "Batch {BatchId}: stopped by shutdown; it resumes at the next start")]
        public static partial void Paused(ILogger logger, string batchId);

        [LoggerMessage(3, LogLevel.Information, "Batch {BatchId} is {Status}: {Completed} answered, {Failed} failed")]
        public static partial void Finished(ILogger logger, string batchId, string status, int completed, int failed);

        [LoggerMessage(5, LogLevel.Error, "Batch {BatchId}: its ledger rows could not be delivered to the ledger; they stay stored and are delivered at the next start")]
        public static partial void DeliveryDeferred(ILogger logger, Exception exception, string batchId);

        [LoggerMessage(6, LogLevel.Information, "Batch {BatchId} is run by another gateway (it holds the lease)")]
        public static partial void LeasedElsewhere(ILogger logger, string batchId);

        [LoggerMessage(7, LogLevel.Warning, "Batch {BatchId}: its lease was taken over by another gateway; this run stops, its answers kept")]
        public static partial void LeaseLost(ILogger logger, string batchId);

        [LoggerMessage(8, LogLevel.Warning, "Batch {BatchId}: its lease could not be renewed; trying again")]
        public static partial void RenewalFailed(ILogger logger, Exception exception, string batchId);

        [LoggerMessage(9, LogLevel.Warning, "Batch {BatchId}: its lease could not be released; it expires by itself")]
        public static partial void ReleaseFailed(ILogger logger, Exception exception, string batchId);
    }
}
