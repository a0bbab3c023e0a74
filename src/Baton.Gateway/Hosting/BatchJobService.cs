using Baton.Batching.Jobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Hosting;

/// <summary>
/// Runs the Batches API's batches in the background, one batch at a time (its items <c>batch.maxConcurrency</c> at
/// a time). At start it queues every batch a previous run left unfinished; on shutdown it stops the items in flight
/// and leaves the batch to be resumed, with every finished item kept.
/// </summary>
internal sealed partial class BatchJobService(BatchJobRunner runner, ILogger<BatchJobService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            if (runner.Store.Exists)
            {
                foreach (var job in runner.Store.Unfinished())
                {
                    Log.Resuming(logger, job.Id, job.Status);
                    runner.Queue.Enqueue(job.Id);
                }
            }
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            // An unreadable jobs database does not take the gateway down: chat keeps working, and the batch
            // endpoints answer with the error.
            Log.ResumeFailed(logger, ex, runner.Store.Path);
        }
        try
        {
            await foreach (var batchId in runner.Queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await runner.RunAsync(batchId, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // A defect or a store failure: the batch stays as stored, and the next batch still runs.
                    Log.RunFailed(logger, ex, batchId);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Resuming batch {BatchId} ({Status})")]
        public static partial void Resuming(ILogger logger, string batchId, string status);

        [LoggerMessage(3, LogLevel.Error, "The batch jobs database {Path} could not be read; no batch is resumed")]
        public static partial void ResumeFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(2, LogLevel.Error, "Batch {BatchId} could not be run")]
        public static partial void RunFailed(ILogger logger, Exception exception, string batchId);
    }
}
