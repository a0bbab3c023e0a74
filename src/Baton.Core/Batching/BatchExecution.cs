using Baton.Engine;
using Baton.Errors;
using Baton.Requests;

namespace Baton.Batching;

/// <summary>
/// One item of a batch as <see cref="BatchExecutor"/> runs it: the caller's id for it and the request to answer, or
/// the refusal it is answered with without asking anything (a body that is not a valid request).
/// </summary>
/// <param name="Id">The caller's id of the item (a <c>custom_id</c>, a <c>request_id</c>, a position): it names the item in logs.</param>
/// <param name="Request">The request, already carrying its caller's options; null when <paramref name="Refusal"/> is set.</param>
/// <param name="Refusal">Why the item fails without being asked.</param>
public sealed record BatchEntry(string Id, ChatRequest? Request, BatonException? Refusal = null);

/// <summary>How one item of a batch ended: the engine's answer, or the error it fails with alone.</summary>
public sealed class BatchAnswer
{
    internal BatchAnswer(int index, BatchEntry entry, ChatCompletionResult? completion, BatonException? error, double latencyMs, DateTimeOffset finishedAt)
    {
        Index = index;
        Entry = entry;
        Completion = completion;
        Error = error;
        LatencyMs = latencyMs;
        FinishedAt = finishedAt;
    }

    /// <summary>The item's position in the list the run was given.</summary>
    public int Index { get; }

    /// <summary>The item.</summary>
    public BatchEntry Entry { get; }

    /// <summary>
    /// The engine's answer; null when the item failed. Given only to <see cref="BatchSink{TResult}.Shape"/>: its body
    /// is returned to the engine's buffers afterwards, and this is null from then on.
    /// </summary>
    public ChatCompletionResult? Completion { get; private set; }

    /// <summary>Why the item failed (refused, an upstream error, an internal error); null when it was answered.</summary>
    public BatonException? Error { get; }

    /// <summary>Whether the item failed.</summary>
    public bool Failed => Error is not null;

    /// <summary>How long the item took, from when the executor started it, in milliseconds.</summary>
    public double LatencyMs { get; }

    /// <summary>When it ended, on the executor's clock.</summary>
    public DateTimeOffset FinishedAt { get; }

    /// <summary>Forgets the engine's answer once it has been shaped and disposed, so that nothing reads a returned buffer.</summary>
    internal void Detach() => Completion = null;
}

/// <summary>Counters of a batch run: items handed to the sink, how many of them failed or came from the cache, and what they used and cost.</summary>
/// <param name="Total">Items the run was given.</param>
/// <param name="Done">Items finished and handed to the sink (answered or failed alone).</param>
/// <param name="Failed">Of those, the items that failed.</param>
/// <param name="CacheHits">Of those, the items answered from the response cache.</param>
/// <param name="Tokens">Total tokens of the answers.</param>
/// <param name="CostUsd">What the answers cost, in US dollars (0 without accounting).</param>
public sealed record BatchProgress(int Total, int Done, int Failed, int CacheHits, long Tokens, decimal CostUsd);

/// <summary>
/// Where a batch's answers go: each caller of <see cref="BatchExecutor"/> turns an answer into its own result (a
/// response item, a JSONL line, a stored row) and keeps it its own way.
/// </summary>
/// <typeparam name="TResult">The caller's result for one item.</typeparam>
public abstract class BatchSink<TResult>
    where TResult : class
{
    /// <summary>What the run is called in logs (a batch id, say).</summary>
    public virtual string Name => "batch";

    /// <summary>
    /// True when the run returns every result in input order (<see cref="BatchRun{TResult}.Results"/>): for a batch
    /// held in memory. False for a file or a store, whatever its size: results are handed to <see cref="StoreAsync"/>
    /// as they finish and not kept.
    /// </summary>
    public virtual bool KeepsResults => false;

    /// <summary>
    /// Turns an answer into the caller's result, while the engine's answer is still readable. Called concurrently for
    /// different items. An exception here is the caller's defect and fails the run.
    /// </summary>
    public abstract TResult Shape(BatchAnswer answer);

    /// <summary>
    /// Keeps one item's result, as it finishes (in completion order, concurrently for different items). It is not
    /// given the run's token: a result paid for is kept even while the run is being stopped. An exception here (the
    /// store cannot be written) stops the run and is thrown by <see cref="BatchExecutor.RunAsync{TResult}"/>.
    /// </summary>
    public virtual ValueTask StoreAsync(BatchAnswer answer, TResult result) => ValueTask.CompletedTask;

    /// <summary>An item that was being asked when the run was stopped: it has no result and is to be asked again.</summary>
    public virtual void Interrupted(int index, BatchEntry entry)
    {
    }

    /// <summary>The run's counters, after each finished item (and once before the first). Called concurrently.</summary>
    public virtual void Report(BatchProgress progress)
    {
    }
}

/// <summary>How a batch run ended.</summary>
/// <typeparam name="TResult">The caller's result for one item.</typeparam>
public sealed class BatchRun<TResult>
    where TResult : class
{
    internal BatchRun(IReadOnlyList<TResult?> results, BatchProgress progress, bool stopped, double elapsedMs)
    {
        Results = results;
        Progress = progress;
        Stopped = stopped;
        ElapsedMs = elapsedMs;
    }

    /// <summary>
    /// Every item's result in input order when the sink keeps results (null for an item not finished because the run
    /// was stopped); empty otherwise.
    /// </summary>
    public IReadOnlyList<TResult?> Results { get; }

    /// <summary>The final counters.</summary>
    public BatchProgress Progress { get; }

    /// <summary>True when the run was stopped by its token before every item had finished.</summary>
    public bool Stopped { get; }

    /// <summary>How long the run took, in milliseconds, on the executor's clock.</summary>
    public double ElapsedMs { get; }
}
