using Baton.Batching.Jobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Hosting;

/// <summary>
/// Runs the Batches API's batches in the background, one batch at a time (its items <c>batch.maxConcurrency</c> at
/// a time). At start it queues every batch a previous run left unfinished; on shutdown it stops the items in flight
/// and leaves the batch to be resumed, with every finished item kept. A run that fails (the store cannot be
/// written, say) is tried again after <see cref="FirstRetryDelay"/>, doubling, up to <see cref="MaxRetries"/> times,
/// keeping every answer stored; then the batch ends <c>failed</c>, its files holding the answers stored. Only a failure
/// of the run itself (the store) is retried: an item that fails fails alone, as an error line.
/// <para>
/// With a store shared by several gateways (PostgreSQL), it also looks, every half lease, for unfinished batches no
/// one holds a lease on (created on another gateway, or left by a gateway that died) and queues them: a batch runs on
/// whichever gateway leases it first.
/// </para>
/// </summary>
internal sealed partial class BatchJobService(BatchJobRunner runner, ILogger<BatchJobService> logger) : BackgroundService
{
    /// <summary>How long after a failed run the batch runs again; each further retry waits twice as long.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>How many times a failed run is tried again before the batch is failed.</summary>
    public const int MaxRetries = 3;

    private readonly Dictionary<string, int> _failedRuns = new(StringComparer.Ordinal);

    /// <summary>Batches waiting for a retry after a failed run, and when it is due: the look for unleased batches leaves them until then.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _retryDue = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            foreach (var job in await runner.Store.UnfinishedAsync(stoppingToken).ConfigureAwait(false))
            {
                Log.Resuming(logger, job.Id, job.Status);
                runner.Queue.Enqueue(job.Id);
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // An unreadable jobs database does not take the gateway down: chat keeps working, and the batch
            // endpoints answer with the error.
            Log.ResumeFailed(logger, ex, runner.Store.Location);
        }
        try
        {
            // The ledger rows of items a killed process stored but the ledger never committed.
            await runner.DeliverLedgerRowsAsync(null, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // They stay stored: each batch delivers its own again before it ends.
            Log.DeliveryFailed(logger, ex, runner.Store.Location);
        }
        var looking = runner.Store.IsShared ? LookForUnleasedAsync(stoppingToken) : Task.CompletedTask;
        try
        {
            await foreach (var batchId in runner.Queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                runner.Queue.Taken(batchId);
                if (_retryDue.TryGetValue(batchId, out var due) && runner.Time.GetUtcNow() < due)
                {
                    // Queued by the look for unleased batches while it waits for its retry.
                    continue;
                }
                try
                {
                    await runner.RunAsync(batchId, stoppingToken).ConfigureAwait(false);
                    _failedRuns.Remove(batchId);
                    _retryDue.TryRemove(batchId, out _);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // A store failure or a defect: the answers stored are kept, and the next batch still runs.
                    await RunFailedAsync(batchId, ex, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        await looking.ConfigureAwait(false);
    }

    /// <summary>Every half lease, queues the unfinished batches no gateway holds a lease on.</summary>
    private async Task LookForUnleasedAsync(CancellationToken stoppingToken)
    {
        var every = runner.Lease / 2;
        try
        {
            while (true)
            {
                await Task.Delay(every, runner.Time, stoppingToken).ConfigureAwait(false);
                try
                {
                    foreach (var batchId in await runner.Store.UnleasedAsync(runner.Time.GetUtcNow().ToUnixTimeMilliseconds(), 100, stoppingToken).ConfigureAwait(false))
                    {
                        runner.Queue.Enqueue(batchId);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database is unreachable for now: the next look tries again.
                    Log.LookFailed(logger, ex, runner.Store.Location);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task RunFailedAsync(string batchId, Exception error, CancellationToken stoppingToken)
    {
        var failures = _failedRuns.GetValueOrDefault(batchId) + 1;
        if (failures <= MaxRetries)
        {
            _failedRuns[batchId] = failures;
            var delay = FirstRetryDelay * (1 << (failures - 1));
            Log.RunFailed(logger, error, batchId, failures, delay);
            _retryDue[batchId] = runner.Time.GetUtcNow() + delay;
            _ = RetryLaterAsync(batchId, delay, stoppingToken);
            return;
        }
        _failedRuns.Remove(batchId);
        _retryDue.TryRemove(batchId, out _);
        Log.GivingUp(logger, error, batchId, failures);
        try
        {
            await runner.FailRunAsync(batchId, failures, error, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The store cannot even be written to end it: the batch stays unfinished, and resumes at the next start.
            Log.FailFailed(logger, ex, batchId);
        }
    }

    private async Task RetryLaterAsync(string batchId, TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, runner.Time, stoppingToken).ConfigureAwait(false);
            _retryDue.TryRemove(batchId, out _);
            runner.Queue.Enqueue(batchId);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the batch is unfinished in the store and resumes at the next start.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Resuming batch {BatchId} ({Status})")]
        public static partial void Resuming(ILogger logger, string batchId, string status);

        [LoggerMessage(3, LogLevel.Error, "The batch jobs database {Path} could not be read; no batch is resumed")]
        public static partial void ResumeFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(2, LogLevel.Error, "Batch {BatchId} could not be run (failure {Failures}); it runs again in {Delay}")]
        public static partial void RunFailed(ILogger logger, Exception exception, string batchId, int failures, TimeSpan delay);

        [LoggerMessage(4, LogLevel.Error, "Batch {BatchId} could not be run {Failures} times; it is failed with the answers stored")]
        public static partial void GivingUp(ILogger logger, Exception exception, string batchId, int failures);

        [LoggerMessage(5, LogLevel.Error, "Batch {BatchId} could not be marked failed; it resumes at the next start")]
        public static partial void FailFailed(ILogger logger, Exception exception, string batchId);

        [LoggerMessage(7, LogLevel.Warning, "The batch jobs database {Path} could not be searched for batches to take over; looking again later")]
        public static partial void LookFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(6, LogLevel.Error, "The ledger rows kept in the batch jobs database {Path} could not be delivered to the ledger; they are kept to be delivered later")]
        public static partial void DeliveryFailed(ILogger logger, Exception exception, string path);
    }
}
