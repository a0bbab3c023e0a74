namespace Baton.Batching.Jobs;

/// <summary>The statuses of a batch, as OpenAI's Batches API names them.</summary>
public static class BatchStatuses
{
    /// <summary>The batch could not run (its input file was invalid, or its store kept failing); <c>errors</c> says why.</summary>
    public const string Failed = "failed";
    /// <summary>Validated and queued or running: the status a batch is created in.</summary>
    public const string InProgress = "in_progress";
    /// <summary>Every item has been answered or has failed; the output and error files are ready.</summary>
    public const string Completed = "completed";
    /// <summary>The completion window passed before every item was done; the answers given so far are in the files.</summary>
    public const string Expired = "expired";
    /// <summary>Cancellation was asked; the items in flight are being stopped.</summary>
    public const string Cancelling = "cancelling";
    /// <summary>Cancelled; the answers given before are in the files.</summary>
    public const string Cancelled = "cancelled";

    // A batch is created in_progress (it is validated before) and goes straight to its end: OpenAI's validating and
    // finalizing statuses are never set (finalizing_at is stamped when a batch completes).
    private static readonly string[] Unfinished = [InProgress, Cancelling];

    /// <summary>The statuses of a batch with work left (or its end left to write), as SQL: <c>status IN</c> this.</summary>
    public static readonly string UnfinishedSql = "(" + string.Join(", ", Unfinished.Select(status => $"'{status}'")) + ")";

    /// <summary>A batch in one of these has work left (or its end left to write).</summary>
    public static bool IsUnfinished(string status) => Unfinished.Contains(status);
}

/// <summary>File purposes of the Files API subset.</summary>
public static class FilePurposes
{
    /// <summary>An uploaded JSONL batch input file.</summary>
    public const string Batch = "batch";
    /// <summary>A file Baton wrote: a batch's output or error file.</summary>
    public const string BatchOutput = "batch_output";
}

/// <summary>What deleting a file did.</summary>
public enum FileDeletion
{
    /// <summary>The file and its content were deleted.</summary>
    Deleted,
    /// <summary>There is no such file (or the caller may not see it).</summary>
    NotFound,

    /// <summary>Refused: the file is the input of a batch that has not ended.</summary>
    InUse,
}

/// <summary>A stored file (without its content).</summary>
public sealed record StoredFile(string Id, string Purpose, string Filename, long Bytes, long CreatedAt);

/// <summary>A stored batch; times are Unix seconds.</summary>
public sealed record BatchJob
{
    /// <summary>The batch's id, <c>batch_</c> and 32 hex digits.</summary>
    public required string Id { get; init; }
    /// <summary>The endpoint every line calls: <c>/v1/chat/completions</c>.</summary>
    public required string Endpoint { get; init; }
    /// <summary>The id of the uploaded input file.</summary>
    public required string InputFileId { get; init; }
    /// <summary>The window the batch must finish in: <c>24h</c>.</summary>
    public required string CompletionWindow { get; init; }
    /// <summary>One of <see cref="BatchStatuses"/>.</summary>
    public required string Status { get; init; }
    /// <summary>Why the batch failed (invalid input lines, a run that kept failing); null when it did not.</summary>
    public IReadOnlyList<BatchJobError>? Errors { get; init; }
    /// <summary>The file of the answered items, once the batch has ended with at least one; null before.</summary>
    public string? OutputFileId { get; init; }
    /// <summary>The file of the failed items, once the batch has ended with at least one; null otherwise.</summary>
    public string? ErrorFileId { get; init; }
    /// <summary>When the batch was created.</summary>
    public long CreatedAt { get; init; }
    /// <summary>When it began to run; null before.</summary>
    public long? InProgressAt { get; init; }
    /// <summary>When the completion window ends: <see cref="CreatedAt"/> plus 24 hours.</summary>
    public long ExpiresAt { get; init; }
    /// <summary>When it completed, stamped with <see cref="CompletedAt"/> (Baton writes its files in the same step); null unless it completed.</summary>
    public long? FinalizingAt { get; init; }
    /// <summary>When it completed; null unless it did.</summary>
    public long? CompletedAt { get; init; }
    /// <summary>When it failed; null unless it did.</summary>
    public long? FailedAt { get; init; }
    /// <summary>When it expired; null unless it did.</summary>
    public long? ExpiredAt { get; init; }
    /// <summary>When its cancellation was asked; null unless it was.</summary>
    public long? CancellingAt { get; init; }
    /// <summary>When it ended cancelled; null unless it did.</summary>
    public long? CancelledAt { get; init; }
    /// <summary>The requests in the input file.</summary>
    public int Total { get; init; }
    /// <summary>The items answered so far.</summary>
    public int Completed { get; init; }
    /// <summary>The items that failed so far (each has a line in the error file).</summary>
    public int Failed { get; init; }
    /// <summary>The caller's metadata given at creation, kept as given; null for none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The caller (a key id) that created the batch and whose key its lines run with; null without authentication.</summary>
    public string? Owner { get; init; }
}

/// <summary>A page of a list, newest first.</summary>
public sealed record StoredPage<T>(IReadOnlyList<T> Items, bool HasMore);
