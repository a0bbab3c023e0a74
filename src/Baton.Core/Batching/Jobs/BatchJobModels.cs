namespace Baton.Batching.Jobs;

/// <summary>The statuses of a batch, as OpenAI's Batches API names them.</summary>
public static class BatchStatuses
{
    public const string Failed = "failed";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Expired = "expired";
    public const string Cancelling = "cancelling";
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
    public const string Batch = "batch";
    public const string BatchOutput = "batch_output";
}

/// <summary>What deleting a file did.</summary>
public enum FileDeletion
{
    Deleted,
    NotFound,

    /// <summary>Refused: the file is the input of a batch that has not ended.</summary>
    InUse,
}

/// <summary>A stored file (without its content).</summary>
public sealed record StoredFile(string Id, string Purpose, string Filename, long Bytes, long CreatedAt);

/// <summary>A stored batch; times are Unix seconds.</summary>
public sealed record BatchJob
{
    public required string Id { get; init; }
    public required string Endpoint { get; init; }
    public required string InputFileId { get; init; }
    public required string CompletionWindow { get; init; }
    public required string Status { get; init; }
    public IReadOnlyList<BatchJobError>? Errors { get; init; }
    public string? OutputFileId { get; init; }
    public string? ErrorFileId { get; init; }
    public long CreatedAt { get; init; }
    public long? InProgressAt { get; init; }
    public long ExpiresAt { get; init; }
    public long? FinalizingAt { get; init; }
    public long? CompletedAt { get; init; }
    public long? FailedAt { get; init; }
    public long? ExpiredAt { get; init; }
    public long? CancellingAt { get; init; }
    public long? CancelledAt { get; init; }
    public int Total { get; init; }
    public int Completed { get; init; }
    public int Failed { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The caller (a key id) that created the batch and whose key its lines run with; null without authentication.</summary>
    public string? Owner { get; init; }
}

/// <summary>A page of a list, newest first.</summary>
public sealed record StoredPage<T>(IReadOnlyList<T> Items, bool HasMore);
