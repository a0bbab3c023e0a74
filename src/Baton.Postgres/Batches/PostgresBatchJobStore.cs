using System.Text.Json;
using Baton.Batching;
using Baton.Batching.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace Baton.Postgres.Batches;

/// <summary>
/// The Batches API's files, batches and answered items in PostgreSQL, shared by every gateway on the database. A file
/// is stored as <c>bytea</c> chunks of <see cref="ChunkBytes"/> (read and written one chunk at a time, never whole in
/// memory); its size is bounded by <c>batch.maxUploadBytes</c> (at most 512 MiB). An answered item is one row, unique by
/// its batch and <c>custom_id</c>, inserted in the same transaction that counts it, under the batch row's lock that
/// <see cref="FinishAsync"/> takes too: an item is stored once, and never after its batch's files are written. A batch
/// runs under a lease (holder and expiry on its row), taken by a compare-and-set update and renewed by its runner.
/// </summary>
internal sealed class PostgresBatchJobStore(PostgresDatabase database) : IBatchJobStore
{
    /// <summary>The size of a file's chunks: few rows per file, each far below PostgreSQL's 1 GB field limit.</summary>
    public const int ChunkBytes = 1024 * 1024;

    private static readonly JsonSerializerOptions Json = BatchJobRow.Json;

    private const string Unfinished = "status IN ('" + BatchStatuses.InProgress + "', '" + BatchStatuses.Cancelling + "')";

    public string Location => database.Location;

    public bool IsShared => true;

    public async Task<StoredFile> AddFileAsync(string purpose, string filename, Stream content, long length, long now, string? owner,
        CancellationToken cancellationToken)
    {
        var file = new StoredFile(NewFileId(), purpose, filename, length, now);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await InsertFileAsync(connection, transaction, file, owner, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[(int)Math.Min(ChunkBytes, Math.Max(1, length))];
        var chunk = 0;
        for (var left = length; left > 0;)
        {
            var size = (int)Math.Min(buffer.Length, left);
            var filled = 0;
            while (filled < size)
            {
                var read = await content.ReadAsync(buffer.AsMemory(filled, size - filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"The file ended after {length - left + filled} of its {length} bytes.");
                }
                filled += read;
            }
            await InsertChunkAsync(connection, transaction, file.Id, chunk++, buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
            left -= size;
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return file;
    }

    public async Task<string?> OwnerOfAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT owner FROM batch_files WHERE id = $1 UNION ALL SELECT owner FROM batches WHERE id = $1 LIMIT 1", connection);
        command.Parameters.Add(Text(id));
        return await command.ExecuteBufferedScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task<StoredFile?> GetFileAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"{SelectFile} WHERE id = $1", connection);
        command.Parameters.Add(Text(id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadFile(reader) : null;
    }

    public async Task<Stream?> OpenFileContentAsync(string id, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlTransaction? transaction = null;
        try
        {
            // One snapshot for the size and every chunk: the file reads as it was when opened, even if deleted meanwhile.
            transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT bytes FROM batch_files WHERE id = $1", connection, transaction);
            command.Parameters.Add(Text(id));
            if (await command.ExecuteBufferedScalarAsync(cancellationToken).ConfigureAwait(false) is not long bytes)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }
            return new ChunkReadStream(connection, transaction, id, bytes);
        }
        catch
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
            }
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<StoredPage<StoredFile>> ListFilesAsync(string? purpose, int limit, string? after, string? owner, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            $"{SelectFile} WHERE ($1::text IS NULL OR purpose = $1) AND ($2::text IS NULL OR seq < (SELECT seq FROM batch_files WHERE id = $2)) " +
            "AND ($3::text IS NULL OR owner = $3) ORDER BY seq DESC LIMIT $4", connection);
        command.Parameters.Add(Text(purpose));
        command.Parameters.Add(Text(after));
        command.Parameters.Add(Text(owner));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var files = new List<StoredFile>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            files.Add(ReadFile(reader));
        }
        return Page(files, limit);
    }

    public async Task<FileDeletion> DeleteFileAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // The file's row locked first: a batch being created on it (which locks it to share) waits, or is seen below.
        await using (var locked = new NpgsqlCommand("SELECT 1 FROM batch_files WHERE id = $1 FOR UPDATE", connection, transaction))
        {
            locked.Parameters.Add(Text(id));
            if (await locked.ExecuteBufferedScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                return FileDeletion.NotFound;
            }
        }
        await using (var inUse = new NpgsqlCommand($"SELECT 1 FROM batches WHERE input_file_id = $1 AND {Unfinished} LIMIT 1", connection, transaction))
        {
            inUse.Parameters.Add(Text(id));
            if (await inUse.ExecuteBufferedScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
            {
                return FileDeletion.InUse;
            }
        }
        await using (var delete = new NpgsqlCommand("DELETE FROM batch_files WHERE id = $1", connection, transaction))
        {
            delete.Parameters.Add(Text(id));
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return FileDeletion.Deleted;
    }

    public async Task<bool> AddBatchAsync(BatchJob job, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var input = new NpgsqlCommand("SELECT 1 FROM batch_files WHERE id = $1 FOR SHARE", connection, transaction))
        {
            input.Parameters.Add(Text(job.InputFileId));
            if (await input.ExecuteBufferedScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                return false;
            }
        }
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO batches (id, endpoint, input_file_id, completion_window, status, errors, created_at, in_progress_at, expires_at, failed_at, total, metadata, owner) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)", connection, transaction))
        {
            insert.Parameters.Add(Text(job.Id));
            insert.Parameters.Add(Text(job.Endpoint));
            insert.Parameters.Add(Text(job.InputFileId));
            insert.Parameters.Add(Text(job.CompletionWindow));
            insert.Parameters.Add(Text(job.Status));
            insert.Parameters.Add(Text(job.Errors is null ? null : JsonSerializer.Serialize(job.Errors, Json)));
            insert.Parameters.Add(Long(job.CreatedAt));
            insert.Parameters.Add(Long(job.InProgressAt));
            insert.Parameters.Add(Long(job.ExpiresAt));
            insert.Parameters.Add(Long(job.FailedAt));
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = job.Total });
            insert.Parameters.Add(Text(job.Metadata is null ? null : JsonSerializer.Serialize(job.Metadata, Json)));
            insert.Parameters.Add(Text(job.Owner));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<BatchJob?> GetBatchAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await GetBatchAsync(connection, null, id, lockRow: false, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredPage<BatchJob>> ListBatchesAsync(int limit, string? after, string? owner, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            $"{SelectBatch} WHERE ($1::text IS NULL OR seq < (SELECT seq FROM batches WHERE id = $1)) AND ($2::text IS NULL OR owner = $2) ORDER BY seq DESC LIMIT $3",
            connection);
        command.Parameters.Add(Text(after));
        command.Parameters.Add(Text(owner));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        return Page(await ReadBatchesAsync(command, cancellationToken).ConfigureAwait(false), limit);
    }

    public async Task<IReadOnlyList<BatchJob>> UnfinishedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"{SelectBatch} WHERE {Unfinished} ORDER BY seq", connection);
        return await ReadBatchesAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<HashSet<string>> FinishedItemsAsync(string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT custom_id FROM batch_items WHERE batch_id = $1", connection);
        command.Parameters.Add(Text(batchId));
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    public async Task<bool> SaveItemAsync(string batchId, int line, string customId, bool failed, byte[] result, string? ledgerRows,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Counting first locks the batch's row: a Finish writing its files waits for this item, or ends it before (then
        // nothing is counted, and nothing stored).
        await using (var count = new NpgsqlCommand(
            $"UPDATE batches SET {(failed ? "failed = failed + 1" : "completed = completed + 1")} WHERE id = $1 AND {Unfinished}", connection, transaction))
        {
            count.Parameters.Add(Text(batchId));
            if (await count.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return false;
            }
        }
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO batch_items (batch_id, line, custom_id, failed, result, ledger) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (batch_id, custom_id) DO NOTHING",
            connection, transaction))
        {
            insert.Parameters.Add(Text(batchId));
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = line });
            insert.Parameters.Add(Text(customId));
            insert.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = failed });
            insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = result });
            insert.Parameters.Add(Text(ledgerRows));
            if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                // Stored before, by this gateway or another that ran the batch: the count above is undone.
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return false;
            }
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<IReadOnlyList<(long Item, string Rows)>> UndeliveredLedgerRowsAsync(string? batchId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT seq, ledger FROM batch_items WHERE ledger IS NOT NULL AND ($1::text IS NULL OR batch_id = $1) ORDER BY seq LIMIT $2", connection);
        command.Parameters.Add(Text(batchId));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var items = new List<(long, string)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add((reader.GetInt64(0), reader.GetString(1)));
        }
        return items;
    }

    public async Task MarkLedgerDeliveredAsync(IReadOnlyList<long> items, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("UPDATE batch_items SET ledger = NULL WHERE seq = ANY($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = items.ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<BatchJob?> RequestCancelAsync(string id, long now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand(
            $"UPDATE batches SET status = '{BatchStatuses.Cancelling}', cancelling_at = $2 WHERE id = $1 AND status = '{BatchStatuses.InProgress}'", connection))
        {
            command.Parameters.Add(Text(id));
            command.Parameters.Add(Long(now));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return await GetBatchAsync(connection, null, id, lockRow: false, cancellationToken).ConfigureAwait(false);
    }

    public async Task<BatchJob?> FinishAsync(string id, bool expired, long now, IReadOnlyList<BatchJobError>? failure, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Locked until the end: no item is stored meanwhile, and a second Finish (on another gateway) waits and then
        // finds the batch ended.
        var job = await GetBatchAsync(connection, transaction, id, lockRow: true, cancellationToken).ConfigureAwait(false);
        if (job is null || !BatchStatuses.IsUnfinished(job.Status))
        {
            return job;
        }
        var (outputId, errorId) = await WriteResultFilesAsync(connection, transaction, id, now, job.Owner, cancellationToken).ConfigureAwait(false);
        var (status, column) = failure is not null ? (BatchStatuses.Failed, "failed_at")
            : job.Status == BatchStatuses.Cancelling ? (BatchStatuses.Cancelled, "cancelled_at")
            : expired ? (BatchStatuses.Expired, "expired_at")
            : (BatchStatuses.Completed, "completed_at");
        var finalizing = status == BatchStatuses.Completed ? ", finalizing_at = $2" : "";
        var errors = failure is not null ? ", errors = $6" : "";
        await using (var update = new NpgsqlCommand(
            $"UPDATE batches SET status = $3, {column} = $2{finalizing}{errors}, output_file_id = $4, error_file_id = $5, lease_holder = NULL, lease_until = NULL WHERE id = $1",
            connection, transaction))
        {
            update.Parameters.Add(Text(id));
            update.Parameters.Add(Long(now));
            update.Parameters.Add(Text(status));
            update.Parameters.Add(Text(outputId));
            update.Parameters.Add(Text(errorId));
            update.Parameters.Add(Text(failure is null ? null : JsonSerializer.Serialize(failure, Json)));
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return await GetBatchAsync(connection, null, id, lockRow: false, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryLeaseAsync(string batchId, string holder, long nowMs, long untilMs, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        // A compare-and-set on the batch's row: of two gateways reaching for an expired lease, the second waits for the
        // first's update, then no longer matches.
        await using var command = new NpgsqlCommand(
            $"UPDATE batches SET lease_holder = $2, lease_until = $4 WHERE id = $1 AND {Unfinished} " +
            "AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until IS NULL OR lease_until <= $3)", connection);
        command.Parameters.Add(Text(batchId));
        command.Parameters.Add(Text(holder));
        command.Parameters.Add(Long(nowMs));
        command.Parameters.Add(Long(untilMs));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task ReleaseLeaseAsync(string batchId, string holder, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("UPDATE batches SET lease_holder = NULL, lease_until = NULL WHERE id = $1 AND lease_holder = $2", connection);
        command.Parameters.Add(Text(batchId));
        command.Parameters.Add(Text(holder));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> UnleasedAsync(long nowMs, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        // SKIP LOCKED: a batch whose row another gateway holds now (leasing it, storing an item, ending it) is busy,
        // not abandoned; it is left out rather than waited for.
        await using var command = new NpgsqlCommand(
            $"SELECT id FROM batches WHERE {Unfinished} AND (lease_until IS NULL OR lease_until <= $1) ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED", connection);
        command.Parameters.Add(Long(nowMs));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    private static string NewFileId() => "file-" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>Writes a batch's answers, in input order, into its output file (successes) and error file (failures), chunk by chunk.</summary>
    private static async Task<(string? Output, string? Errors)> WriteResultFilesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string id, long now, string? owner, CancellationToken cancellationToken)
    {
        long outputBytes = 0, errorBytes = 0;
        await using (var sizes = new NpgsqlCommand("SELECT failed, SUM(length(result))::bigint FROM batch_items WHERE batch_id = $1 GROUP BY failed", connection, transaction))
        {
            sizes.Parameters.Add(Text(id));
            await using var reader = await sizes.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.GetBoolean(0))
                {
                    errorBytes = reader.GetInt64(1);
                }
                else
                {
                    outputBytes = reader.GetInt64(1);
                }
            }
        }
        var output = outputBytes > 0 ? new ResultFile(new StoredFile(NewFileId(), FilePurposes.BatchOutput, $"{id}_output.jsonl", outputBytes, now)) : null;
        var errors = errorBytes > 0 ? new ResultFile(new StoredFile(NewFileId(), FilePurposes.BatchOutput, $"{id}_error.jsonl", errorBytes, now)) : null;
        foreach (var file in new[] { output, errors })
        {
            if (file is not null)
            {
                await InsertFileAsync(connection, transaction, file.File, owner, cancellationToken).ConfigureAwait(false);
            }
        }
        // The lines are read in full first: the connection serves one command at a time, and chunks are inserted on it.
        var lines = new List<(bool Failed, byte[] Line)>();
        await using (var command = new NpgsqlCommand("SELECT failed, result FROM batch_items WHERE batch_id = $1 ORDER BY line", connection, transaction))
        {
            command.Parameters.Add(Text(id));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                lines.Add((reader.GetBoolean(0), reader.GetFieldValue<byte[]>(1)));
            }
        }
        foreach (var (failed, line) in lines)
        {
            var file = (failed ? errors : output)!;
            for (var offset = 0; offset < line.Length;)
            {
                var take = Math.Min(line.Length - offset, ChunkBytes - file.Filled);
                line.AsSpan(offset, take).CopyTo(file.Buffer.AsSpan(file.Filled));
                file.Filled += take;
                offset += take;
                if (file.Filled == ChunkBytes)
                {
                    await file.FlushAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        foreach (var file in new[] { output, errors })
        {
            if (file is { Filled: > 0 })
            {
                await file.FlushAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            }
        }
        return (output?.File.Id, errors?.File.Id);
    }

    /// <summary>A result file being written: the chunk being filled, and how many were written.</summary>
    private sealed class ResultFile(StoredFile file)
    {
        public StoredFile File { get; } = file;
        public byte[] Buffer { get; } = new byte[(int)Math.Min(ChunkBytes, file.Bytes)];
        public int Filled { get; set; }
        private int _chunks;

        public async Task FlushAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
        {
            await InsertChunkAsync(connection, transaction, File.Id, _chunks++, Buffer.AsMemory(0, Filled), cancellationToken).ConfigureAwait(false);
            Filled = 0;
        }
    }

    private static async Task InsertFileAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredFile file, string? owner, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO batch_files (id, purpose, filename, bytes, created_at, owner) VALUES ($1, $2, $3, $4, $5, $6)", connection, transaction);
        command.Parameters.Add(Text(file.Id));
        command.Parameters.Add(Text(file.Purpose));
        command.Parameters.Add(Text(file.Filename));
        command.Parameters.Add(Long(file.Bytes));
        command.Parameters.Add(Long(file.CreatedAt));
        command.Parameters.Add(Text(owner));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task InsertChunkAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string fileId, int chunk, ReadOnlyMemory<byte> data,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("INSERT INTO batch_file_chunks (file_id, chunk, data) VALUES ($1, $2, $3)", connection, transaction);
        command.Parameters.Add(Text(fileId));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = chunk });
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Bytea });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Long(long? value) => new() { Value = value is { } v ? v : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint };

    private static StoredPage<T> Page<T>(List<T> items, int limit)
    {
        var more = items.Count > limit;
        if (more)
        {
            items.RemoveAt(items.Count - 1);
        }
        return new StoredPage<T>(items, more);
    }

    private const string SelectFile = "SELECT id, purpose, filename, bytes, created_at FROM batch_files";

    private static StoredFile ReadFile(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4));

    private const string SelectBatch =
        "SELECT " + BatchJobRow.Columns + ", owner FROM batches";

    private static async Task<BatchJob?> GetBatchAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string id, bool lockRow,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"{SelectBatch} WHERE id = $1{(lockRow ? " FOR UPDATE" : "")}", connection, transaction);
        command.Parameters.Add(Text(id));
        var jobs = await ReadBatchesAsync(command, cancellationToken).ConfigureAwait(false);
        return jobs.Count > 0 ? jobs[0] : null;
    }

    private static async Task<List<BatchJob>> ReadBatchesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var jobs = new List<BatchJob>();
        await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            jobs.Add(BatchJobRow.Read(r));
        }
        return jobs;
    }

    /// <summary>
    /// A stored file's content, read one chunk at a time in the snapshot it was opened in; disposing it ends the
    /// snapshot and returns the connection to the pool.
    /// </summary>
    private sealed class ChunkReadStream(NpgsqlConnection connection, NpgsqlTransaction transaction, string fileId, long length) : Stream
    {
        private byte[] _chunk = [];
        private int _offset;
        private int _next;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset == _chunk.Length && !NextChunk())
            {
                return 0;
            }
            return Take(buffer);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset == _chunk.Length && !await NextChunkAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
            return Take(buffer.Span);
        }

        private int Take(Span<byte> buffer)
        {
            var count = Math.Min(buffer.Length, _chunk.Length - _offset);
            _chunk.AsSpan(_offset, count).CopyTo(buffer);
            _offset += count;
            _position += count;
            return count;
        }

        /// <summary>Reads the next chunk; false at the end. Npgsql's synchronous calls serve the synchronous reads.</summary>
        private bool NextChunk()
        {
            if (_position >= length)
            {
                return false;
            }
            using var command = ChunkCommand();
            return Took(command.ExecuteScalar());
        }

        private async ValueTask<bool> NextChunkAsync(CancellationToken cancellationToken)
        {
            if (_position >= length)
            {
                return false;
            }
            await using var command = ChunkCommand();
            return Took(await command.ExecuteBufferedScalarAsync(cancellationToken).ConfigureAwait(false));
        }

        private NpgsqlCommand ChunkCommand()
        {
            var command = new NpgsqlCommand("SELECT data FROM batch_file_chunks WHERE file_id = $1 AND chunk = $2", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = fileId });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = _next });
            return command;
        }

        private bool Took(object? value)
        {
            var data = value as byte[] ?? throw new IOException($"The file {fileId} lacks its chunk {_next}.");
            _next++;
            _chunk = data;
            _offset = 0;
            return data.Length > 0;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                transaction.Dispose();
                connection.Dispose();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
