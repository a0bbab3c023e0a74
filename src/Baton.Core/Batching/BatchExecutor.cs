using Baton.Accounting.Ledger;
using Baton.Caching;
using Baton.Engine;
using Baton.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Batching;

/// <summary>
/// Runs the items of a batch through the engine (cache, limits, retries, breakers, accounting), at most
/// <see cref="MaxConcurrency"/> at a time: the one loop behind <c>POST /batch</c>, <c>baton batch</c> and the Batches
/// API, each of which only adapts its input to <see cref="BatchEntry"/> items and its output to a
/// <see cref="BatchSink{TResult}"/>.
/// <list type="bullet">
/// <item>One item's failure never fails the batch: an engine error, a refused body, even a defect met by one request
/// become that item's error. Only the sink failing to keep a result (its store cannot be written) stops the run.</item>
/// <item>Stopping (the token) stops the items in flight at once; an item that fails because of it is not an answer
/// (it is reported <see cref="BatchSink{TResult}.Interrupted"/>, to be asked again), while an answer that arrives
/// meanwhile is kept. The run then returns what finished, with <see cref="BatchRun{TResult}.Stopped"/> set.</item>
/// <item>Items run in the caller's execution context, so their spans are children of the caller's span and the
/// caller's <c>traceparent</c> goes on to the upstreams.</item>
/// </list>
/// </summary>
public sealed partial class BatchExecutor
{
    /// <summary>Seed 001's <c>MAX_CONCURRENT_REQUESTS</c>: the default of <c>batch.maxConcurrency</c>.</summary>
    public const int DefaultMaxConcurrency = 10;

    private readonly ILogger _logger;

    /// <param name="engine">The engine every item is asked through.</param>
    /// <param name="time">The clock latencies are measured on.</param>
    /// <param name="maxConcurrency">How many items of one run are asked at the same time (<c>batch.maxConcurrency</c>).</param>
    /// <param name="logger">Where an item's internal error is logged.</param>
    public BatchExecutor(BatonEngine engine, TimeProvider time, int maxConcurrency = DefaultMaxConcurrency, ILogger<BatchExecutor>? logger = null)
    {
        Engine = engine;
        Time = time;
        MaxConcurrency = Math.Max(1, maxConcurrency);
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The engine items are asked through.</summary>
    public BatonEngine Engine { get; }

    /// <summary>The clock latencies are measured on.</summary>
    public TimeProvider Time { get; }

    /// <summary>How many items of one run are asked at the same time.</summary>
    public int MaxConcurrency { get; }

    /// <summary>
    /// Runs <paramref name="entries"/> to their end, or until <paramref name="cancellationToken"/> stops the run (it
    /// then returns what finished rather than throwing).
    /// </summary>
    /// <exception cref="Exception">Whatever the sink threw while keeping a result; the other items in flight are stopped first.</exception>
    public async Task<BatchRun<TResult>> RunAsync<TResult>(IReadOnlyList<BatchEntry> entries, BatchSink<TResult> sink, CancellationToken cancellationToken)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(sink);
        var started = Time.GetTimestamp();
        var counters = new Counters(entries.Count);
        var results = sink.KeepsResults ? new TResult?[entries.Count] : null;
        sink.Report(counters.Snapshot());
        try
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, entries.Count),
                new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrency, CancellationToken = cancellationToken },
                async (index, token) =>
                {
                    var entry = entries[index];
                    if (await AnswerAsync(index, entry, sink, token).ConfigureAwait(false) is not { } finished)
                    {
                        sink.Interrupted(index, entry);
                        return;
                    }
                    await sink.StoreAsync(finished.Answer, finished.Result).ConfigureAwait(false);
                    if (results is not null)
                    {
                        results[index] = finished.Result;
                    }
                    sink.Report(counters.Add(finished.Answer, finished.Tokens, finished.CacheHit, finished.CostUsd));
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: everything that finished has been kept; the rest is the caller's to run again.
        }
        // Stopped only when the stop left items unfinished: a stop after the last item changes nothing.
        return new BatchRun<TResult>(results ?? [], counters.Snapshot(), cancellationToken.IsCancellationRequested && counters.Done < entries.Count,
            Time.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Asks one item and shapes its answer; null when the run was stopped before it was answered.</summary>
    private async ValueTask<Finished<TResult>?> AnswerAsync<TResult>(int index, BatchEntry entry, BatchSink<TResult> sink, CancellationToken token)
        where TResult : class
    {
        var started = Time.GetTimestamp();
        if (entry.Refusal is { } refusal || entry.Request is null)
        {
            // Refused before asking anything: the same body would be refused again, so it fails now, alone.
            var error = entry.Refusal ?? BatonException.InvalidRequest("The item has no request.", null, "invalid_request");
            var refused = new BatchAnswer(index, entry, null, error, Elapsed(started), Time.GetUtcNow());
            return new Finished<TResult>(refused, sink.Shape(refused), 0, false, 0);
        }
        ChatCompletionResult completion;
        try
        {
            completion = await Engine.CompleteAsync(entry.Request, token).ConfigureAwait(false);
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Failed because the run is being stopped, not because of the request: it is asked again on resume.
            return null;
        }
        catch (BatonException error)
        {
            var failed = new BatchAnswer(index, entry, null, error, Elapsed(started), Time.GetUtcNow());
            return new Finished<TResult>(failed, sink.Shape(failed), 0, false, 0);
        }
        catch (Exception ex)
        {
            // Neither an answer nor an error of the engine's: a defect this request runs into. Asking again would meet
            // it again, so the item fails alone (the details go to the log, not to the caller) and the batch goes on.
            Log.ItemFailed(_logger, ex, sink.Name, entry.Id);
            var failed = new BatchAnswer(index, entry, null,
                new BatonException(500, ErrorTypes.Server, "The request could not be answered: an internal error (logged).", null, "internal_error"),
                Elapsed(started), Time.GetUtcNow());
            return new Finished<TResult>(failed, sink.Shape(failed), 0, false, 0);
        }
        using (completion)
        {
            // An answer that arrives while the run is being stopped is kept: it has been paid for. It is shaped while
            // the engine's body is still readable.
            var answer = new BatchAnswer(index, entry, completion, null, Elapsed(started), Time.GetUtcNow());
            try
            {
                return new Finished<TResult>(answer, sink.Shape(answer), completion.Usage.TotalTokens, completion.Route.Cache == CacheStatus.Hit,
                    completion.CostUsd ?? 0);
            }
            finally
            {
                answer.Detach();
            }
        }
    }

    private double Elapsed(long started) => Time.GetElapsedTime(started).TotalMilliseconds;

    private sealed record Finished<TResult>(BatchAnswer Answer, TResult Result, long Tokens, bool CacheHit, decimal CostUsd);

    /// <summary>A run's counters, updated by concurrent items without a lock.</summary>
    private sealed class Counters(int total)
    {
        private int _done;
        private int _failed;
        private int _hits;
        private long _tokens;
        private long _costPicoUsd;

        public int Done => Volatile.Read(ref _done);

        public BatchProgress Add(BatchAnswer answer, long tokens, bool cacheHit, decimal costUsd)
        {
            // Usage first, the count last: a snapshot never shows an item done without what it used.
            Interlocked.Add(ref _tokens, tokens);
            Interlocked.Add(ref _costPicoUsd, LedgerDatabase.ToPico(costUsd));
            if (cacheHit)
            {
                Interlocked.Increment(ref _hits);
            }
            if (answer.Failed)
            {
                Interlocked.Increment(ref _failed);
            }
            Interlocked.Increment(ref _done);
            return Snapshot();
        }

        public BatchProgress Snapshot() => new(total, Volatile.Read(ref _done), Volatile.Read(ref _failed), Volatile.Read(ref _hits),
            Interlocked.Read(ref _tokens), LedgerDatabase.FromPico(Interlocked.Read(ref _costPicoUsd)));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "{Batch}: item {ItemId} could not be answered; it fails alone")]
        public static partial void ItemFailed(ILogger logger, Exception exception, string batch, string itemId);
    }
}
