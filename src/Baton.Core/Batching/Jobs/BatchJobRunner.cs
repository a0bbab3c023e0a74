using Baton.Engine;
using Microsoft.Extensions.Logging;

namespace Baton.Batching.Jobs;

/// <summary>
/// Creates and runs the Batches API's batches. A batch is validated when it is created (a bad line fails it at
/// once, as OpenAI does); running it answers each item through the engine with <c>batch.maxConcurrency</c> at a
/// time and stores each answer as it finishes, so a run stopped by shutdown carries on later without asking any
/// finished item again. Cancelling stops the items in flight; passing <c>expires_at</c> ends the batch
/// <c>expired</c>; both keep the answers already given in the output and error files.
/// </summary>
internal sealed partial class BatchJobRunner(
    BatchJobStore store, BatchJobQueue queue, BatonEngine engine, TimeProvider time, int maxConcurrency, ILogger<BatchJobRunner> logger,
    Auth.IKeyStore? keys = null)
{
    /// <summary>The only completion window OpenAI offers.</summary>
    public const string CompletionWindow = "24h";

    private static readonly TimeSpan Window = TimeSpan.FromHours(24);

    public BatchJobStore Store => store;

    public BatchJobQueue Queue => queue;

    public TimeProvider Time => time;

    public long Now => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// Validates the input file and stores the batch: <c>failed</c> with the reasons, or <c>in_progress</c> and
    /// queued; null, storing nothing, when the input file has been deleted meanwhile.
    /// </summary>
    public BatchJob? Create(StoredFile input, byte[] content, IReadOnlyDictionary<string, string>? metadata, string? owner = null)
    {
        var now = Now;
        var (items, errors) = BatchJobInput.Read(content);
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
        if (!store.AddBatch(job))
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
    public BatchJob? Cancel(string batchId)
    {
        var job = store.RequestCancel(batchId, Now);
        if (job is { Status: BatchStatuses.Cancelling } && !queue.Cancel(batchId))
        {
            // Not running (yet): the runner, were it starting now, sees the status after registering and stops.
            job = store.Finish(batchId, expired: false, Now);
        }
        return job;
    }

    /// <summary>
    /// Ends a batch whose runs kept failing: <c>failed</c>, with the reason in <c>errors</c> and the answers stored so
    /// far in its output and error files. The batch as it is afterwards; null when unknown.
    /// </summary>
    public BatchJob? FailRun(string batchId, int runs, Exception error)
    {
        var job = store.Finish(batchId, expired: false, Now,
            [new BatchJobError("batch_run_failed", $"The batch could not be run ({runs} attempts): {Describe(error)}", null, null)]);
        Finished(job);
        return job;
    }

    /// <summary>
    /// Runs one batch to its end, or until <paramref name="stopping"/> (the batch then stays unfinished in the
    /// store, to be resumed).
    /// </summary>
    public async Task RunAsync(string batchId, CancellationToken stopping)
    {
        var job = store.GetBatch(batchId);
        if (job is null || !BatchStatuses.IsUnfinished(job.Status))
        {
            return;
        }
        if (job.Status is BatchStatuses.Cancelling || Now >= job.ExpiresAt)
        {
            Finished(store.Finish(batchId, expired: Now >= job.ExpiresAt, Now));
            return;
        }
        if (store.GetFileContent(job.InputFileId) is not { } content)
        {
            // The answers stored before the file went are kept in the batch's output and error files.
            Finished(store.Finish(batchId, expired: false, Now,
                [new BatchJobError("input_file_missing", $"The input file {job.InputFileId} was deleted before the batch finished.", "input_file_id", null)]));
            return;
        }
        if (await OwnerOptionsAsync(job.Owner, stopping).ConfigureAwait(false) is not { } caller)
        {
            Finished(store.Finish(batchId, expired: false, Now,
                [new BatchJobError("invalid_api_key", "The key that created the batch has been revoked or has expired; its remaining lines were not run.", null, null)]));
            return;
        }
        var finished = store.FinishedItems(batchId);
        var pending = BatchJobInput.Read(content).Items.Where(item => !finished.Contains(item.CustomId)).ToList();
        Log.Running(logger, batchId, pending.Count, finished.Count);

        using var cancel = queue.Register(batchId);
        if (store.GetBatch(batchId) is not { Status: BatchStatuses.InProgress })
        {
            // Cancelled between being read and being registered: the cancel did not see it running.
            Finished(store.Finish(batchId, expired: false, Now));
            return;
        }
        using var expiry = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(0, job.ExpiresAt - Now)), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, cancel.Token, expiry.Token);
        try
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxConcurrency), CancellationToken = linked.Token },
                async (item, token) =>
                {
                    // Every line runs as the batch's creator: its key's models, limits and budget, and its id in the ledger.
                    item.Request.Options = item.Request.Options.Over(caller);
                    var result = await BatchLine.AnswerAsync(engine, item.CustomId, item.Request, token).ConfigureAwait(false);
                    if (result.Failed && token.IsCancellationRequested)
                    {
                        // Failed because the run was stopped, not because of the request: it is asked again on resume.
                        return;
                    }
                    store.SaveItem(batchId, item.Line, item.CustomId, result.Failed, result.Line);
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // Stopped, cancelled or expired: every answer stored so far is kept.
        }
        if (stopping.IsCancellationRequested && !cancel.Token.IsCancellationRequested && !expiry.IsCancellationRequested)
        {
            Log.Paused(logger, batchId);
            return;
        }
        Finished(store.Finish(batchId, expired: expiry.IsCancellationRequested || Now >= job.ExpiresAt, Now));
    }

    /// <summary>A store's error says what went wrong; any other is a defect, whose details stay in the log.</summary>
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
        return key is not null && key.IsActive(time.GetUtcNow()) ? new Requests.BatonRequestOptions { ApiKeyId = key.Id, Key = key } : null;
    }

    private static string Describe(Exception error) =>
        error is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException ? error.Message : "an internal error (logged by the gateway)";

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
    }
}
