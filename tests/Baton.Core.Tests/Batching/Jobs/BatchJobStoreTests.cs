using System.Text;
using Baton.Batching;
using Baton.Batching.Jobs;
using Microsoft.Data.Sqlite;

namespace Baton.Core.Tests.Batching.Jobs;

/// <summary>The batch jobs' SQLite file: created on first use, answers stored once, files written in input order.</summary>
public sealed class BatchJobStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-jobstore-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string DatabasePath => Path.Combine(_directory, "nested", "jobs.db");

    private static BatchJob Job(string id, string fileId, int total) => new()
    {
        Id = id,
        Endpoint = "/v1/chat/completions",
        InputFileId = fileId,
        CompletionWindow = "24h",
        Status = BatchStatuses.InProgress,
        CreatedAt = 1000,
        InProgressAt = 1000,
        ExpiresAt = 1000 + 86400,
        Total = total,
        Metadata = new Dictionary<string, string> { ["k"] = "v" },
    };

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static MemoryStream Stream(string text) => new(Bytes(text));

    private static StoredFile AddFile(BatchJobStore store, string name, byte[] content, long now) =>
        store.AddFile(FilePurposes.Batch, name, new MemoryStream(content), content.Length, now);

    /// <summary>A stored file's content, read through the store's stream; null when unknown.</summary>
    private static byte[]? Content(BatchJobStore store, string id)
    {
        using var content = store.OpenFileContent(id);
        if (content is null)
        {
            return null;
        }
        using var copy = new MemoryStream();
        content.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public void The_file_is_created_on_first_use_and_answers_survive_reopening_once_each()
    {
        using (var store = new BatchJobStore(DatabasePath))
        {
            // Reads before the first write find nothing and create nothing.
            Assert.Null(store.GetBatch("batch_1"));
            Assert.Empty(store.ListFiles(null, 10, null).Items);
            Assert.Empty(store.Unfinished());
            Assert.False(File.Exists(DatabasePath));
            var file = AddFile(store, "in.jsonl", Bytes("x\n"), 1000);
            Assert.True(File.Exists(DatabasePath));
            store.AddBatch(Job("batch_1", file.Id, 3));
            store.SaveItem("batch_1", 3, "c", failed: false, Bytes("C\n"));
            store.SaveItem("batch_1", 1, "a", failed: true, Bytes("A\n"));
            store.SaveItem("batch_1", 1, "a", failed: true, Bytes("A again\n"));
        }

        using var reopened = new BatchJobStore(DatabasePath);
        var job = reopened.GetBatch("batch_1")!;
        Assert.Equal((1, 1), (job.Completed, job.Failed));
        Assert.Equal("v", job.Metadata!["k"]);
        Assert.Equal(["batch_1"], reopened.Unfinished().Select(j => j.Id));
        Assert.Equal(new HashSet<string> { "a", "c" }, reopened.FinishedItems("batch_1"));

        reopened.SaveItem("batch_1", 2, "b", failed: false, Bytes("B\n"));
        var finished = reopened.Finish("batch_1", expired: false, 2000)!;

        Assert.Equal(BatchStatuses.Completed, finished.Status);
        Assert.Equal(2000, finished.CompletedAt);
        Assert.Equal(2000, finished.FinalizingAt);
        Assert.Equal("B\nC\n", Encoding.UTF8.GetString(Content(reopened, finished.OutputFileId!)!));
        Assert.Equal("A\n", Encoding.UTF8.GetString(Content(reopened, finished.ErrorFileId!)!));
        Assert.Equal(FilePurposes.BatchOutput, reopened.GetFile(finished.OutputFileId!)!.Purpose);
        Assert.Empty(reopened.Unfinished());

        // An ended batch takes no more answers and is not finished twice.
        reopened.SaveItem("batch_1", 4, "d", failed: false, Bytes("D\n"));
        Assert.Equal(2, reopened.GetBatch("batch_1")!.Completed);
        Assert.Equal(finished.OutputFileId, reopened.Finish("batch_1", expired: true, 3000)!.OutputFileId);
    }

    [Fact]
    public void An_item_is_stored_with_its_ledger_rows_which_wait_until_marked_delivered()
    {
        using var store = new BatchJobStore(DatabasePath);
        var file = AddFile(store, "in.jsonl", Bytes("x\n"), 1000);
        store.AddBatch(Job("batch_1", file.Id, 3));
        store.AddBatch(Job("batch_2", file.Id, 1));

        Assert.True(store.SaveItem("batch_1", 1, "a", failed: false, Bytes("A\n"), "[\"rows of a\"]"));
        Assert.True(store.SaveItem("batch_1", 2, "b", failed: true, Bytes("B\n")));
        Assert.True(store.SaveItem("batch_2", 1, "a", failed: false, Bytes("A\n"), "[\"rows of 2a\"]"));
        // Stored before: neither the item nor its rows are stored again.
        Assert.False(store.SaveItem("batch_1", 1, "a", failed: false, Bytes("A\n"), "[\"rows of a, again\"]"));

        var pending = store.UndeliveredLedgerRows("batch_1", 10);
        Assert.Equal(["[\"rows of a\"]"], pending.Select(p => p.Rows));
        Assert.Equal(2, store.UndeliveredLedgerRows(null, 10).Count);
        Assert.Single(store.UndeliveredLedgerRows(null, 1));

        store.MarkLedgerDelivered(pending.Select(p => p.Item).ToList());
        Assert.Empty(store.UndeliveredLedgerRows("batch_1", 10));
        Assert.Equal(["[\"rows of 2a\"]"], store.UndeliveredLedgerRows(null, 10).Select(p => p.Rows));
    }

    [Fact]
    public void A_jobs_file_written_before_items_kept_ledger_rows_gains_the_column_and_keeps_its_items()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE batch_items (batch_id TEXT NOT NULL, custom_id TEXT NOT NULL, line INTEGER NOT NULL, failed INTEGER NOT NULL,
                    result BLOB NOT NULL, PRIMARY KEY (batch_id, custom_id));
                INSERT INTO batch_items VALUES ('batch_1', 'a', 1, 0, X'410A');
                """;
            command.ExecuteNonQuery();
        }

        using var store = new BatchJobStore(DatabasePath);
        var file = AddFile(store, "in.jsonl", Bytes("x\n"), 1000);
        store.AddBatch(Job("batch_1", file.Id, 2));
        Assert.Equal(new HashSet<string> { "a" }, store.FinishedItems("batch_1"));
        Assert.Empty(store.UndeliveredLedgerRows(null, 10));
        Assert.True(store.SaveItem("batch_1", 2, "b", failed: false, Bytes("B\n"), "[]"));
        Assert.Single(store.UndeliveredLedgerRows("batch_1", 10));
        Assert.Equal("A\nB\n", Encoding.UTF8.GetString(Content(store, store.Finish("batch_1", expired: false, 2000)!.OutputFileId!)!));
    }

    [Fact]
    public void A_file_is_stored_byte_for_byte_from_a_stream_and_one_that_ends_early_stores_nothing()
    {
        using var store = new BatchJobStore(DatabasePath);
        var content = new byte[300_000];
        new Random(7).NextBytes(content);

        var file = store.AddFile(FilePurposes.Batch, "in.jsonl", new MemoryStream(content), content.Length, 1000);
        Assert.Equal(content.Length, file.Bytes);
        Assert.Equal(content, Content(store, file.Id));

        Assert.Throws<EndOfStreamException>(() => store.AddFile(FilePurposes.Batch, "short.jsonl", new MemoryStream(content), content.Length + 1, 1000));
        Assert.Equal([file.Id], store.ListFiles(null, 10, null).Items.Select(f => f.Id));

        // A download reads the file as it was when it began, even if the file is deleted meanwhile.
        using var download = store.OpenFileContent(file.Id)!;
        Assert.Equal(FileDeletion.Deleted, store.DeleteFile(file.Id));
        using var copy = new MemoryStream();
        download.CopyTo(copy);
        Assert.Equal(content, copy.ToArray());
        Assert.Null(store.OpenFileContent(file.Id));
    }

    [Fact]
    public void A_cancel_wins_over_completion_and_only_unfinished_batches_can_be_cancelled()
    {
        using var store = new BatchJobStore(DatabasePath);
        var file = AddFile(store, "in.jsonl", Bytes("x\n"), 1000);
        store.AddBatch(Job("batch_1", file.Id, 1));

        Assert.Equal(BatchStatuses.Cancelling, store.RequestCancel("batch_1", 1500)!.Status);
        var ended = store.Finish("batch_1", expired: false, 1600)!;
        Assert.Equal(BatchStatuses.Cancelled, ended.Status);
        Assert.Equal((1500L, 1600L), (ended.CancellingAt!.Value, ended.CancelledAt!.Value));
        Assert.Null(ended.CompletedAt);
        Assert.Null(ended.OutputFileId);
        Assert.Equal(BatchStatuses.Cancelled, store.RequestCancel("batch_1", 1700)!.Status);
        Assert.Null(store.RequestCancel("batch_unknown", 1700));
    }

    [Fact]
    public void Lists_are_newest_first_and_paged_after_an_id()
    {
        using var store = new BatchJobStore(DatabasePath);
        var ids = Enumerable.Range(0, 3).Select(i => AddFile(store, $"{i}.jsonl", Bytes("x"), 1000 + i).Id).ToList();

        var first = store.ListFiles(FilePurposes.Batch, 2, null);
        Assert.Equal([ids[2], ids[1]], first.Items.Select(f => f.Id));
        Assert.True(first.HasMore);
        var second = store.ListFiles(null, 2, ids[1]);
        Assert.Equal([ids[0]], second.Items.Select(f => f.Id));
        Assert.False(second.HasMore);
        Assert.Empty(store.ListFiles(FilePurposes.BatchOutput, 10, null).Items);
        Assert.Equal(FileDeletion.Deleted, store.DeleteFile(ids[0]));
        Assert.Equal(FileDeletion.NotFound, store.DeleteFile(ids[0]));
        Assert.Null(Content(store, ids[0]));
    }

    [Fact]
    public async Task Input_errors_name_each_bad_line_and_an_empty_file_is_an_error()
    {
        var line = """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}""";
        var (items, errors) = await BatchJobInput.ReadAsync(Stream(string.Join('\n', line, "", "[1", line.Replace("\"a\"", "\"b\"", StringComparison.Ordinal), line,
            """{"custom_id":"c","method":"GET","body":{}}""", """{"custom_id":"d"}""")), CancellationToken.None);

        Assert.Equal(["a", "b"], items.Select(i => i.CustomId));
        Assert.Equal([1, 4], items.Select(i => i.Line));
        Assert.Equal([(3, "invalid_json_line"), (5, "duplicate_custom_id"), (6, "invalid_method"), (7, "missing_required_parameter")],
            errors.Select(e => (e.Line!.Value, e.Code)));

        var (none, empty) = await BatchJobInput.ReadAsync(Stream("\n \n"), CancellationToken.None);
        Assert.Empty(none);
        Assert.Equal("empty_file", Assert.Single(empty).Code);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_not_left_open_however_often_it_is_tried()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        File.WriteAllText(DatabasePath, new string('x', 8192));
        using var store = new BatchJobStore(DatabasePath);

        for (var i = 0; i < 5; i++)
        {
            Assert.Throws<SqliteException>(() => store.GetFile("file-1"));
        }

        Assert.Equal(0, OpenHandlesTo(DatabasePath));
        Assert.Equal(new string('x', 8192), File.ReadAllText(DatabasePath));
    }

    [Fact]
    public void A_disposed_store_refuses_calls_instead_of_opening_the_file_again()
    {
        var store = new BatchJobStore(DatabasePath);
        var file = AddFile(store, "in.jsonl", Bytes("x\n"), 1000);
        store.Dispose();

        Assert.Throws<ObjectDisposedException>(() => store.GetFile(file.Id));
        Assert.Throws<ObjectDisposedException>(() => AddFile(store, "in.jsonl", Bytes("x\n"), 1000));
        Assert.Equal(0, OpenHandlesTo(DatabasePath));
    }

    [Fact]
    public void The_input_file_of_a_batch_that_has_not_ended_is_not_deleted()
    {
        using var store = new BatchJobStore(DatabasePath);
        var file = AddFile(store, "in.jsonl", Bytes("x\n"), 1000);
        store.AddBatch(Job("batch_1", file.Id, 1));

        Assert.Equal(FileDeletion.InUse, store.DeleteFile(file.Id));
        Assert.NotNull(Content(store, file.Id));
        store.RequestCancel("batch_1", 1100);
        Assert.Equal(FileDeletion.InUse, store.DeleteFile(file.Id));

        store.Finish("batch_1", expired: false, 1200);
        Assert.Equal(FileDeletion.Deleted, store.DeleteFile(file.Id));

        // A batch is not stored on a file deleted since it was read.
        Assert.False(store.AddBatch(Job("batch_2", file.Id, 1)));
        Assert.Null(store.GetBatch("batch_2"));
    }

    [Fact]
    public void A_batch_failed_at_the_end_keeps_its_stored_answers_in_its_files()
    {
        using var store = new BatchJobStore(DatabasePath);
        var file = AddFile(store, "in.jsonl", Bytes("x\n"), 1000);
        store.AddBatch(Job("batch_1", file.Id, 3));
        store.SaveItem("batch_1", 2, "b", failed: false, Bytes("B\n"));
        store.SaveItem("batch_1", 1, "a", failed: true, Bytes("A\n"));

        var failed = store.Finish("batch_1", expired: false, 2000, [new BatchJobError("batch_run_failed", "disk full", null, null)])!;

        Assert.Equal(BatchStatuses.Failed, failed.Status);
        Assert.Equal(2000, failed.FailedAt);
        Assert.Null(failed.CompletedAt);
        Assert.Equal("batch_run_failed", Assert.Single(failed.Errors!).Code);
        Assert.Equal((1, 1), (failed.Completed, failed.Failed));
        Assert.Equal("B\n", Encoding.UTF8.GetString(Content(store, failed.OutputFileId!)!));
        Assert.Equal("A\n", Encoding.UTF8.GetString(Content(store, failed.ErrorFileId!)!));
    }

    [Fact]
    public async Task An_input_file_is_read_without_a_synchronous_read()
    {
        // A stored file may stream from a database's socket: a synchronous read there, on a socket thread, stalls every
        // socket that thread serves (a gateway once timed out connecting to PostgreSQL while reading a batch's input).
        var line = """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}""";

        var (items, errors) = await BatchJobInput.ReadAsync(new AsynchronousOnlyStream(Bytes(line + "\n" + line.Replace("\"a\"", "\"b\"", StringComparison.Ordinal))),
            CancellationToken.None);

        Assert.Empty(errors);
        Assert.Equal(["a", "b"], items.Select(i => i.CustomId));
    }

    [Fact]
    public async Task An_input_file_may_start_with_a_utf8_byte_order_mark()
    {
        var line = """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}""";

        var (items, errors) = await BatchJobInput.ReadAsync(new MemoryStream([.. Encoding.UTF8.Preamble, .. Bytes(line + "\n")]), CancellationToken.None);

        Assert.Empty(errors);
        Assert.Equal("a", Assert.Single(items).CustomId);
    }

    [Fact]
    public async Task Bytes_that_are_not_utf8_are_an_error_of_their_line_naming_the_string_not_replaced()
    {
        var good = """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}""";
        // Line 2 holds 0xFF 0xFE inside the message's text; line 3 ends in CRLF, as files written on Windows do.
        byte[] bad = [.. Bytes(good.Replace("\"a\"", "\"b\"", StringComparison.Ordinal)[..^"hi\"}]}}".Length]), 0xFF, 0xFE, .. Bytes("\"}]}}")];
        var crlf = Bytes(good.Replace("\"a\"", "\"c\"", StringComparison.Ordinal) + "\r\n");

        var (items, errors) = await BatchJobInput.ReadAsync(new MemoryStream([.. Bytes(good + "\n"), .. bad, (byte)'\n', .. crlf]), CancellationToken.None);

        Assert.Equal(["a", "c"], items.Select(i => i.CustomId));
        var error = Assert.Single(errors);
        Assert.Equal((2, "invalid_encoding", "body.messages[0].content"), (error.Line!.Value, error.Code, error.Param));

        // baton batch reads its file the same way.
        var path = Path.Combine(Path.GetDirectoryName(DatabasePath)!, "input.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [.. Bytes(good + "\n"), .. bad]);
        var (fileItems, problems) = await BatchJobInput.ReadFileAsync(path, CancellationToken.None);
        Assert.Equal("a", Assert.Single(fileItems).CustomId);
        Assert.Equal((2, "invalid_encoding"), (Assert.Single(problems).Line, Assert.Single(problems).Problem.Code));
    }

    /// <summary>The file descriptors of this process open on <paramref name="path"/> (Linux; elsewhere none are seen).</summary>
    private static int OpenHandlesTo(string path)
    {
        if (!Directory.Exists("/proc/self/fd"))
        {
            return 0;
        }
        var full = Path.GetFullPath(path);
        return Directory.GetFileSystemEntries("/proc/self/fd").Count(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget is { } target && target.StartsWith(full, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        });
    }

    /// <summary>A stream of bytes that fails any synchronous read.</summary>
    private sealed class AsynchronousOnlyStream(byte[] bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => bytes.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("read synchronously");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var count = Math.Min(buffer.Length, bytes.Length - _position);
            bytes.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return ValueTask.FromResult(count);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
