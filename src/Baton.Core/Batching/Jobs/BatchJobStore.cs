using System.Buffers;
using System.Text.Json;
using Baton.Accounting.Ledger;
using Microsoft.Data.Sqlite;

namespace Baton.Batching.Jobs;

/// <summary>
/// The Batches API's SQLite file: uploaded and produced files, batches, and each answered item as it finishes,
/// so a restarted gateway carries on without asking anything twice. WAL mode, one connection, every change in
/// one transaction; the file is created on first use, so a gateway that never sees a batch leaves no file behind.
/// Files are streamed into and out of their blobs in pieces, never held whole in memory. An item is stored with its
/// ledger rows in one transaction; the rows wait there until the ledger confirms them (see
/// <see cref="UndeliveredLedgerRows"/>).
/// </summary>
public sealed partial class BatchJobStore(string path) : IBatchJobStore, IDisposable
{
    private static readonly JsonSerializerOptions Json = BatchJobRow.Json;
    private readonly Lock _gate = new();
    private SqliteConnection? _connection;
    private bool _disposed;

    /// <summary>The database file's full path.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>
    /// True while no file has been created: nothing is stored, so reads answer empty without creating one (a gateway
    /// that is only asked about batches leaves no file behind).
    /// </summary>
    private bool Empty => _connection is null && !File.Exists(Path);

    /// <summary>
    /// Stores a file of <paramref name="length"/> bytes read from <paramref name="content"/> in pieces; a stream that
    /// ends early stores nothing.
    /// </summary>
    /// <param name="purpose">The file's purpose.</param>
    /// <param name="filename">The name it was uploaded under.</param>
    /// <param name="content">Its bytes, read once.</param>
    /// <param name="length">How many bytes it holds.</param>
    /// <param name="now">Unix seconds.</param>
    /// <param name="owner">The caller that uploaded it (a key id), who alone sees it besides the master key; null without authentication.</param>
    public StoredFile AddFile(string purpose, string filename, Stream content, long length, long now, string? owner = null)
    {
        var file = new StoredFile(NewFileId(), purpose, filename, length, now);
        lock (_gate)
        {
            var connection = Open();
            using var transaction = connection.BeginTransaction();
            var rowid = InsertFile(connection, transaction, file);
            SetOwner(connection, transaction, file.Id, owner);
            using (var blob = new SqliteBlob(connection, "files", "content", rowid))
            {
                var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
                try
                {
                    for (var left = length; left > 0;)
                    {
                        var read = content.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                        if (read == 0)
                        {
                            throw new EndOfStreamException($"The file ended after {length - left} of its {length} bytes.");
                        }
                        blob.Write(buffer, 0, read);
                        left -= read;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            transaction.Commit();
        }
        return file;
    }

    /// <summary>The caller that created a file or batch; null when it has none (created without authentication).</summary>
    public string? OwnerOf(string id)
    {
        lock (_gate)
        {
            if (Empty)
            {
                return null;
            }
            using var command = Command("SELECT owner FROM owners WHERE object_id = $id", ("$id", id));
            return command.ExecuteScalar() as string;
        }
    }

    /// <summary>The file with this id, without its content; null when there is none (or no database file yet).</summary>
    public StoredFile? GetFile(string id)
    {
        lock (_gate)
        {
            if (Empty)
            {
                return null;
            }
            using var command = Command("SELECT id, purpose, filename, bytes, created_at FROM files WHERE id = $id", ("$id", id));
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadFile(reader) : null;
        }
    }

    /// <summary>
    /// A file's content as a stream read in pieces from the database, on a connection of its own (reading it never
    /// holds up the store); null when unknown. It reads the file as it was when opened, even if it is deleted
    /// meanwhile. Dispose it to release the connection.
    /// </summary>
    public Stream? OpenFileContent(string id)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Empty)
            {
                return null;
            }
            // The writer's connection creates the file and its tables; a reader needs both.
            Open();
        }
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        SqliteTransaction? transaction = null;
        try
        {
            connection.Open();
            // One read transaction for the lookup and the blob: both see the same snapshot of the file.
            transaction = connection.BeginTransaction(deferred: true);
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT seq FROM files WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            if (command.ExecuteScalar() is not long rowid)
            {
                transaction.Dispose();
                connection.Dispose();
                return null;
            }
            return new BlobReadStream(new SqliteBlob(connection, "files", "content", rowid, readOnly: true), transaction, connection);
        }
        catch
        {
            transaction?.Dispose();
            connection.Dispose();
            throw;
        }
    }

    /// <param name="purpose">Only files of this purpose; all when null.</param>
    /// <param name="limit">The most files answered.</param>
    /// <param name="after">The id of the last file of the previous page.</param>
    /// <param name="owner">Only this caller's files; all when null.</param>
    public StoredPage<StoredFile> ListFiles(string? purpose, int limit, string? after, string? owner = null)
    {
        lock (_gate)
        {
            if (Empty)
            {
                return new StoredPage<StoredFile>([], false);
            }
            using var command = Command(
                "SELECT id, purpose, filename, bytes, created_at FROM files " +
                "WHERE ($purpose IS NULL OR purpose = $purpose) AND ($after IS NULL OR seq < (SELECT seq FROM files WHERE id = $after)) " +
                OwnedBy + "ORDER BY seq DESC LIMIT $limit",
                ("$purpose", purpose), ("$after", after), ("$limit", limit + 1), ("$owner", owner));
            using var reader = command.ExecuteReader();
            var files = new List<StoredFile>();
            while (reader.Read())
            {
                files.Add(ReadFile(reader));
            }
            return Page(files, limit);
        }
    }

    /// <summary>
    /// Deletes a file, unless it is the input of a batch that has not ended (the batch would lose its requests,
    /// and with them the answers it has stored, at its next run).
    /// </summary>
    public FileDeletion DeleteFile(string id)
    {
        lock (_gate)
        {
            if (Empty)
            {
                return FileDeletion.NotFound;
            }
            using (var inUse = Command($"SELECT 1 FROM batches WHERE input_file_id = $id AND status IN {BatchStatuses.UnfinishedSql} LIMIT 1",
                ("$id", id)))
            {
                if (inUse.ExecuteScalar() is not null)
                {
                    return FileDeletion.InUse;
                }
            }
            using var command = Command("DELETE FROM files WHERE id = $id; DELETE FROM owners WHERE object_id = $id", ("$id", id));
            return command.ExecuteNonQuery() > 0 ? FileDeletion.Deleted : FileDeletion.NotFound;
        }
    }

    /// <summary>Stores a batch; false, storing nothing, when its input file is gone (deleted since it was read).</summary>
    public bool AddBatch(BatchJob job)
    {
        lock (_gate)
        {
            var connection = Open();
            using var transaction = connection.BeginTransaction();
            using var command = Command(
                "INSERT INTO batches (id, endpoint, input_file_id, completion_window, status, errors, created_at, in_progress_at, expires_at, failed_at, total, metadata) " +
                "SELECT $id, $endpoint, $input, $window, $status, $errors, $created, $in_progress, $expires, $failed_at, $total, $metadata " +
                "WHERE EXISTS (SELECT 1 FROM files WHERE id = $input)",
                ("$id", job.Id), ("$endpoint", job.Endpoint), ("$input", job.InputFileId), ("$window", job.CompletionWindow), ("$status", job.Status),
                ("$errors", job.Errors is null ? null : JsonSerializer.Serialize(job.Errors, Json)), ("$created", job.CreatedAt),
                ("$in_progress", job.InProgressAt), ("$expires", job.ExpiresAt), ("$failed_at", job.FailedAt), ("$total", job.Total),
                ("$metadata", job.Metadata is null ? null : JsonSerializer.Serialize(job.Metadata, Json)));
            command.Transaction = transaction;
            if (command.ExecuteNonQuery() == 0)
            {
                return false;
            }
            SetOwner(connection, transaction, job.Id, job.Owner);
            transaction.Commit();
            return true;
        }
    }

    /// <summary>The batch with this id; null when there is none (or no database file yet).</summary>
    public BatchJob? GetBatch(string id)
    {
        lock (_gate)
        {
            if (Empty)
            {
                return null;
            }
            using var command = Command(SelectBatch + "WHERE id = $id", ("$id", id));
            using var reader = command.ExecuteReader();
            return reader.Read() ? BatchJobRow.Read(reader) : null;
        }
    }

    /// <param name="limit">The most batches answered.</param>
    /// <param name="after">The id of the last batch of the previous page.</param>
    /// <param name="owner">Only this caller's batches; all when null.</param>
    public StoredPage<BatchJob> ListBatches(int limit, string? after, string? owner = null)
    {
        lock (_gate)
        {
            if (Empty)
            {
                return new StoredPage<BatchJob>([], false);
            }
            using var command = Command(SelectBatch + "WHERE ($after IS NULL OR seq < (SELECT seq FROM batches WHERE id = $after)) " + OwnedBy + "ORDER BY seq DESC LIMIT $limit",
                ("$after", after), ("$limit", limit + 1), ("$owner", owner));
            return Page(ReadBatches(command), limit);
        }
    }

    /// <summary>Batches with work left, oldest first.</summary>
    public IReadOnlyList<BatchJob> Unfinished()
    {
        lock (_gate)
        {
            if (Empty)
            {
                return [];
            }
            using var command = Command($"{SelectBatch}WHERE status IN {BatchStatuses.UnfinishedSql} ORDER BY seq");
            return ReadBatches(command);
        }
    }

    /// <summary>The custom ids of a batch already answered.</summary>
    public HashSet<string> FinishedItems(string batchId)
    {
        lock (_gate)
        {
            using var command = Command("SELECT custom_id FROM batch_items WHERE batch_id = $id", ("$id", batchId));
            using var reader = command.ExecuteReader();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }
            return ids;
        }
    }

    /// <summary>
    /// Stores one answered item with its ledger rows (JSON, delivered to the ledger later) and counts it, in one
    /// transaction; false, storing nothing, for an item stored before or an item of a batch that has already ended.
    /// </summary>
    public bool SaveItem(string batchId, int line, string customId, bool failed, byte[] result, string? ledgerRows = null)
    {
        lock (_gate)
        {
            var connection = Open();
            using var transaction = connection.BeginTransaction();
            using (var status = Command("SELECT status FROM batches WHERE id = $batch", ("$batch", batchId)))
            {
                status.Transaction = transaction;
                if (status.ExecuteScalar() is not string current || current is not (BatchStatuses.InProgress or BatchStatuses.Cancelling))
                {
                    // The batch has ended (or is gone): its files are written and its counts final.
                    return false;
                }
            }
            using (var insert = Command("INSERT OR IGNORE INTO batch_items (batch_id, line, custom_id, failed, result, ledger) VALUES ($batch, $line, $custom, $failed, $result, $ledger)",
                ("$batch", batchId), ("$line", line), ("$custom", customId), ("$failed", failed ? 1 : 0), ("$result", result), ("$ledger", ledgerRows)))
            {
                insert.Transaction = transaction;
                if (insert.ExecuteNonQuery() == 0)
                {
                    return false;
                }
            }
            using (var count = Command(failed ? "UPDATE batches SET failed = failed + 1 WHERE id = $batch" : "UPDATE batches SET completed = completed + 1 WHERE id = $batch",
                ("$batch", batchId)))
            {
                count.Transaction = transaction;
                count.ExecuteNonQuery();
            }
            transaction.Commit();
            return true;
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> stored items whose ledger rows the ledger has not yet confirmed, of one batch or
    /// of all: each with its row id (for <see cref="MarkLedgerDelivered"/>) and its rows as stored.
    /// </summary>
    public IReadOnlyList<(long Item, string Rows)> UndeliveredLedgerRows(string? batchId, int limit)
    {
        lock (_gate)
        {
            if (Empty)
            {
                return [];
            }
            using var command = Command("SELECT rowid, ledger FROM batch_items WHERE ledger IS NOT NULL AND ($batch IS NULL OR batch_id = $batch) LIMIT $limit",
                ("$batch", batchId), ("$limit", limit));
            using var reader = command.ExecuteReader();
            var items = new List<(long, string)>();
            while (reader.Read())
            {
                items.Add((reader.GetInt64(0), reader.GetString(1)));
            }
            return items;
        }
    }

    /// <summary>Forgets the ledger rows of items once the ledger has committed them.</summary>
    public void MarkLedgerDelivered(IReadOnlyList<long> items)
    {
        lock (_gate)
        {
            var connection = Open();
            using var transaction = connection.BeginTransaction();
            using var command = Command("UPDATE batch_items SET ledger = NULL WHERE rowid = $item");
            command.Transaction = transaction;
            var item = command.Parameters.Add("$item", SqliteType.Integer);
            foreach (var id in items)
            {
                item.Value = id;
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>Moves a batch in progress to <c>cancelling</c>; the batch as it is afterwards, null when unknown.</summary>
    public BatchJob? RequestCancel(string id, long now)
    {
        lock (_gate)
        {
            if (Empty)
            {
                return null;
            }
            using (var command = Command("UPDATE batches SET status = $cancelling, cancelling_at = $now WHERE id = $id AND status = $in_progress",
                ("$id", id), ("$now", now), ("$cancelling", BatchStatuses.Cancelling), ("$in_progress", BatchStatuses.InProgress)))
            {
                command.ExecuteNonQuery();
            }
            using var select = Command(SelectBatch + "WHERE id = $id", ("$id", id));
            using var reader = select.ExecuteReader();
            return reader.Read() ? BatchJobRow.Read(reader) : null;
        }
    }

    /// <summary>
    /// Ends a batch in one transaction: its answers become an output file (successes) and an error file (failures),
    /// in input order, and its status becomes <c>failed</c> with <paramref name="failure"/> when given,
    /// <c>cancelled</c> when a cancel was asked, <c>expired</c> when <paramref name="expired"/>, otherwise
    /// <c>completed</c> (with <c>finalizing_at</c> stamped at the same moment).
    /// </summary>
    public BatchJob? Finish(string id, bool expired, long now, IReadOnlyList<BatchJobError>? failure = null)
    {
        lock (_gate)
        {
            var connection = Open();
            using var transaction = connection.BeginTransaction();
            BatchJob? job;
            using (var select = Command(SelectBatch + "WHERE id = $id", ("$id", id)))
            {
                select.Transaction = transaction;
                using var reader = select.ExecuteReader();
                job = reader.Read() ? BatchJobRow.Read(reader) : null;
            }
            if (job is null || !BatchStatuses.IsUnfinished(job.Status))
            {
                return job;
            }
            var (outputId, errorId) = WriteResultFiles(connection, transaction, id, now, job.Owner);
            var (status, column) = failure is not null ? (BatchStatuses.Failed, "failed_at")
                : job.Status == BatchStatuses.Cancelling ? (BatchStatuses.Cancelled, "cancelled_at")
                : expired ? (BatchStatuses.Expired, "expired_at")
                : (BatchStatuses.Completed, "completed_at");
            var finalizing = status == BatchStatuses.Completed ? ", finalizing_at = $now" : "";
            var errorsColumn = failure is not null ? ", errors = $errors" : "";
            using (var update = Command($"UPDATE batches SET status = $status, {column} = $now{finalizing}{errorsColumn}, output_file_id = $output, error_file_id = $error WHERE id = $id",
                ("$id", id), ("$status", status), ("$now", now), ("$output", outputId), ("$error", errorId),
                ("$errors", failure is null ? null : JsonSerializer.Serialize(failure, Json))))
            {
                update.Transaction = transaction;
                update.ExecuteNonQuery();
            }
            transaction.Commit();
            using var again = Command(SelectBatch + "WHERE id = $id", ("$id", id));
            using var updated = again.ExecuteReader();
            return updated.Read() ? BatchJobRow.Read(updated) : null;
        }
    }

    /// <summary>Closes the database's connection; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _connection?.Dispose();
            _connection = null;
        }
    }

    /// <summary>The piece size files are copied in: large enough for few calls, small enough to stay out of the large object heap.</summary>
    private const int CopyBufferBytes = 64 * 1024;

    private static string NewFileId() => "file-" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>
    /// Writes a batch's answers into its output file (successes) and error file (failures), in input order, line by
    /// line into blobs sized first: the files' ids, null for a file that would be empty.
    /// </summary>
    private (string? Output, string? Errors) WriteResultFiles(SqliteConnection connection, SqliteTransaction transaction, string id, long now, string? owner)
    {
        long outputBytes = 0, errorBytes = 0;
        using (var sizes = Command("SELECT failed, SUM(length(result)) FROM batch_items WHERE batch_id = $id GROUP BY failed", ("$id", id)))
        {
            sizes.Transaction = transaction;
            using var reader = sizes.ExecuteReader();
            while (reader.Read())
            {
                if (reader.GetInt64(0) != 0)
                {
                    errorBytes = reader.GetInt64(1);
                }
                else
                {
                    outputBytes = reader.GetInt64(1);
                }
            }
        }
        string? outputId = null, errorId = null;
        SqliteBlob? output = null, errors = null;
        try
        {
            if (outputBytes > 0)
            {
                outputId = NewFileId();
                output = new SqliteBlob(connection, "files", "content",
                    InsertFile(connection, transaction, new StoredFile(outputId, FilePurposes.BatchOutput, $"{id}_output.jsonl", outputBytes, now)));
                SetOwner(connection, transaction, outputId, owner);
            }
            if (errorBytes > 0)
            {
                errorId = NewFileId();
                errors = new SqliteBlob(connection, "files", "content",
                    InsertFile(connection, transaction, new StoredFile(errorId, FilePurposes.BatchOutput, $"{id}_error.jsonl", errorBytes, now)));
                SetOwner(connection, transaction, errorId, owner);
            }
            using var command = Command("SELECT failed, result FROM batch_items WHERE batch_id = $id ORDER BY line", ("$id", id));
            command.Transaction = transaction;
            using var lines = command.ExecuteReader();
            while (lines.Read())
            {
                var line = (byte[])lines.GetValue(1);
                (lines.GetInt64(0) != 0 ? errors : output)!.Write(line);
            }
        }
        finally
        {
            output?.Dispose();
            errors?.Dispose();
        }
        return (outputId, errorId);
    }

    /// <summary>Inserts a file's row with a blob of its size, zeroed, to be written in place; its row id.</summary>
    private static long InsertFile(SqliteConnection connection, SqliteTransaction transaction, StoredFile file)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO files (id, purpose, filename, bytes, created_at, content) VALUES ($id, $purpose, $filename, $bytes, $created, zeroblob($bytes)) RETURNING seq";
        command.Parameters.AddWithValue("$id", file.Id);
        command.Parameters.AddWithValue("$purpose", file.Purpose);
        command.Parameters.AddWithValue("$filename", file.Filename);
        command.Parameters.AddWithValue("$bytes", file.Bytes);
        command.Parameters.AddWithValue("$created", file.CreatedAt);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The filter of a listing by owner (<c>$owner</c>, null for all), after its other conditions.</summary>
    private const string OwnedBy = "AND ($owner IS NULL OR id IN (SELECT object_id FROM owners WHERE owner = $owner)) ";

    /// <summary>Records who created a file or batch, in the same transaction as the object.</summary>
    private static void SetOwner(SqliteConnection connection, SqliteTransaction transaction, string id, string? owner)
    {
        if (owner is null)
        {
            return;
        }
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO owners (object_id, owner) VALUES ($id, $owner)";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$owner", owner);
        command.ExecuteNonQuery();
    }

    private static StoredPage<T> Page<T>(List<T> items, int limit)
    {
        var more = items.Count > limit;
        if (more)
        {
            items.RemoveAt(items.Count - 1);
        }
        return new StoredPage<T>(items, more);
    }

    private static StoredFile ReadFile(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4));

    private const string SelectBatch =
        "SELECT " + BatchJobRow.Columns + ", (SELECT owner FROM owners WHERE object_id = batches.id) FROM batches ";

    private static List<BatchJob> ReadBatches(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var jobs = new List<BatchJob>();
        while (reader.Read())
        {
            jobs.Add(BatchJobRow.Read(reader));
        }
        return jobs;
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = Open().CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command;
    }

    private SqliteConnection Open()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is not null)
        {
            return _connection;
        }
        // Not a database, unreadable, locked: Open keeps nothing open, and the next call tries again.
        var connection = LedgerDatabase.Open(Path, Schema, synchronousFull: true);
        try
        {
            // A file written before items kept their ledger rows gains the column.
            LedgerDatabase.AddColumnIfMissing(connection, "batch_items", "ledger", "TEXT");
            using var index = connection.CreateCommand();
            index.CommandText = "CREATE INDEX IF NOT EXISTS batch_items_undelivered ON batch_items (batch_id) WHERE ledger IS NOT NULL";
            index.ExecuteNonQuery();
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        return _connection = connection;
    }

    /// <summary>The content of a stored file, read from its blob; disposing it ends its read transaction and connection.</summary>
    private sealed class BlobReadStream(SqliteBlob blob, SqliteTransaction transaction, SqliteConnection connection) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => blob.Length;

        public override long Position
        {
            get => blob.Position;
            set => blob.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => blob.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => blob.Read(buffer);

        public override long Seek(long offset, SeekOrigin origin) => blob.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                blob.Dispose();
                transaction.Dispose();
                connection.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS files (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            purpose TEXT NOT NULL,
            filename TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            content BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS batches (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            endpoint TEXT NOT NULL,
            input_file_id TEXT NOT NULL,
            completion_window TEXT NOT NULL,
            status TEXT NOT NULL,
            errors TEXT,
            output_file_id TEXT,
            error_file_id TEXT,
            created_at INTEGER NOT NULL,
            in_progress_at INTEGER,
            expires_at INTEGER NOT NULL,
            finalizing_at INTEGER,
            completed_at INTEGER,
            failed_at INTEGER,
            expired_at INTEGER,
            cancelling_at INTEGER,
            cancelled_at INTEGER,
            total INTEGER NOT NULL,
            completed INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            metadata TEXT
        );
        CREATE TABLE IF NOT EXISTS batch_items (
            batch_id TEXT NOT NULL,
            custom_id TEXT NOT NULL,
            line INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            result BLOB NOT NULL,
            ledger TEXT,
            PRIMARY KEY (batch_id, custom_id)
        );
        CREATE TABLE IF NOT EXISTS owners (
            object_id TEXT PRIMARY KEY,
            owner TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS owners_owner ON owners (owner);
        """;
}
