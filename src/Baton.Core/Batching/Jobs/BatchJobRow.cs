using System.Data.Common;
using System.Text.Json;

namespace Baton.Batching.Jobs;

/// <summary>
/// A batch job read back from a database row, for every <see cref="IBatchJobStore"/> that keeps batches in SQL. The
/// row's columns come in the order <see cref="Columns"/> names them; the owner is the last column, however the
/// store finds it.
/// </summary>
public static class BatchJobRow
{
    /// <summary>The columns a batch row is selected with, before the owner's column.</summary>
    public const string Columns =
        "id, endpoint, input_file_id, completion_window, status, errors, output_file_id, error_file_id, created_at, in_progress_at, expires_at, " +
        "finalizing_at, completed_at, failed_at, expired_at, cancelling_at, cancelled_at, total, completed, failed, metadata";

    /// <summary>How the errors and metadata columns are written as JSON.</summary>
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The batch on the reader's current row.</summary>
    public static BatchJob Read(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        long? Time(int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
        return new BatchJob
        {
            Id = r.GetString(0),
            Endpoint = r.GetString(1),
            InputFileId = r.GetString(2),
            CompletionWindow = r.GetString(3),
            Status = r.GetString(4),
            Errors = Text(5) is { } errors ? JsonSerializer.Deserialize<List<BatchJobError>>(errors, Json) : null,
            OutputFileId = Text(6),
            ErrorFileId = Text(7),
            CreatedAt = r.GetInt64(8),
            InProgressAt = Time(9),
            ExpiresAt = r.GetInt64(10),
            FinalizingAt = Time(11),
            CompletedAt = Time(12),
            FailedAt = Time(13),
            ExpiredAt = Time(14),
            CancellingAt = Time(15),
            CancelledAt = Time(16),
            Total = r.GetInt32(17),
            Completed = r.GetInt32(18),
            Failed = r.GetInt32(19),
            Metadata = Text(20) is { } metadata ? JsonSerializer.Deserialize<Dictionary<string, string>>(metadata, Json) : null,
            Owner = Text(21),
        };
    }
}
