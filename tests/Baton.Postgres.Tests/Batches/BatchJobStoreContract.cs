using System.Text;
using Baton.Batching;
using Baton.Batching.Jobs;
using Baton.Postgres.Batches;
using Baton.Postgres.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Postgres.Tests.Batches;

/// <summary>What every <see cref="IBatchJobStore"/> must do, run against the SQLite store and the PostgreSQL one.</summary>
public abstract class BatchJobStoreContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>A store on the same state as every other this class creates (for PostgreSQL: another gateway).</summary>
    protected abstract Task<IBatchJobStore> CreateStoreAsync();

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    private static async Task<StoredFile> UploadAsync(IBatchJobStore store, byte[] content, string? owner = null) =>
        await store.AddFileAsync(FilePurposes.Batch, "in.jsonl", new MemoryStream(content), content.Length, 1000, owner, None);

    private static async Task<byte[]> ReadAsync(IBatchJobStore store, string id)
    {
        await using var content = await store.OpenFileContentAsync(id, None) ?? throw new InvalidOperationException($"{id} is missing");
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy);
        Assert.Equal(copy.Length, content.Length);
        return copy.ToArray();
    }

    private static BatchJob NewBatch(string id, string input, int total, string? owner = null) => new()
    {
        Id = id,
        Endpoint = "/v1/chat/completions",
        InputFileId = input,
        CompletionWindow = "24h",
        Status = BatchStatuses.InProgress,
        CreatedAt = 1000,
        InProgressAt = 1000,
        ExpiresAt = 1000 + 86400,
        Total = total,
        Metadata = new Dictionary<string, string> { ["team"] = "a" },
        Owner = owner,
    };

    [Fact]
    public async Task A_file_of_several_chunks_reads_back_byte_for_byte_on_another_store()
    {
        var store = await CreateStoreAsync();
        // Larger than PostgreSQL's chunk and not a multiple of it: three chunks, the last one short.
        var content = new byte[(2 * PostgresBatchJobStore.ChunkBytes) + 12345];
        new Random(7).NextBytes(content);

        var file = await UploadAsync(store, content, owner: "key-a");

        var other = await CreateStoreAsync();
        Assert.Equal(file, await other.GetFileAsync(file.Id, None));
        Assert.Equal(content, await ReadAsync(other, file.Id));
        Assert.Equal("key-a", await other.OwnerOfAsync(file.Id, None));
        Assert.Null(await other.OpenFileContentAsync("file-unknown", None));
    }

    [Fact]
    public async Task A_stream_ending_early_stores_nothing()
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAsync<EndOfStreamException>(() =>
            store.AddFileAsync(FilePurposes.Batch, "short.jsonl", new MemoryStream(new byte[10]), 20, 1000, null, None));

        Assert.Empty((await store.ListFilesAsync(null, 10, null, null, None)).Items);
    }

    [Fact]
    public async Task Files_list_newest_first_by_page_purpose_and_owner()
    {
        var store = await CreateStoreAsync();
        var a = await UploadAsync(store, "a"u8.ToArray(), "key-a");
        var b = await UploadAsync(store, "b"u8.ToArray(), "key-b");
        var c = await UploadAsync(store, "c"u8.ToArray(), "key-a");

        var first = await store.ListFilesAsync(FilePurposes.Batch, 2, null, null, None);
        Assert.Equal([c.Id, b.Id], first.Items.Select(f => f.Id));
        Assert.True(first.HasMore);
        var second = await store.ListFilesAsync(FilePurposes.Batch, 2, b.Id, null, None);
        Assert.Equal([a.Id], second.Items.Select(f => f.Id));
        Assert.False(second.HasMore);
        Assert.Equal([c.Id, a.Id], (await store.ListFilesAsync(null, 10, null, "key-a", None)).Items.Select(f => f.Id));
        Assert.Empty((await store.ListFilesAsync(FilePurposes.BatchOutput, 10, null, null, None)).Items);
    }

    [Fact]
    public async Task A_file_in_use_by_an_unfinished_batch_is_not_deleted_and_a_batch_on_a_deleted_file_is_not_stored()
    {
        var store = await CreateStoreAsync();
        var input = await UploadAsync(store, "x"u8.ToArray());
        Assert.True(await store.AddBatchAsync(NewBatch("batch_1", input.Id, 1), None));

        Assert.Equal(FileDeletion.InUse, await store.DeleteFileAsync(input.Id, None));
        await store.FinishAsync("batch_1", expired: false, 2000, null, None);
        Assert.Equal(FileDeletion.Deleted, await store.DeleteFileAsync(input.Id, None));
        Assert.Equal(FileDeletion.NotFound, await store.DeleteFileAsync(input.Id, None));
        Assert.Null(await store.GetFileAsync(input.Id, None));

        Assert.False(await store.AddBatchAsync(NewBatch("batch_2", input.Id, 1), None));
        Assert.Null(await store.GetBatchAsync("batch_2", None));
    }

    [Fact]
    public async Task Each_item_is_stored_once_across_stores_and_the_files_hold_answers_in_input_order()
    {
        var store = await CreateStoreAsync();
        var other = await CreateStoreAsync();
        var input = await UploadAsync(store, "x"u8.ToArray(), "key-a");
        Assert.True(await store.AddBatchAsync(NewBatch("batch_1", input.Id, 3, "key-a"), None));

        Assert.True(await store.SaveItemAsync("batch_1", 3, "c", false, "third\n"u8.ToArray(), null, None));
        Assert.True(await other.SaveItemAsync("batch_1", 1, "a", false, "first\n"u8.ToArray(), "[]", None));
        // The same item answered again (by a second gateway that took the batch over) is not stored nor counted.
        Assert.False(await store.SaveItemAsync("batch_1", 1, "a", false, "again\n"u8.ToArray(), "[]", None));
        Assert.True(await other.SaveItemAsync("batch_1", 2, "b", true, "error\n"u8.ToArray(), null, None));

        Assert.Equal(["a", "b", "c"], (await store.FinishedItemsAsync("batch_1", None)).Order(StringComparer.Ordinal));
        var done = await other.FinishAsync("batch_1", expired: false, 2000, null, None);

        Assert.NotNull(done);
        Assert.Equal(BatchStatuses.Completed, done.Status);
        Assert.Equal((2, 1), (done.Completed, done.Failed));
        Assert.Equal(2000, done.CompletedAt);
        Assert.Equal("key-a", done.Owner);
        Assert.Equal("a", done.Metadata!["team"]);
        Assert.Equal("first\nthird\n", Encoding.UTF8.GetString(await ReadAsync(store, done.OutputFileId!)));
        Assert.Equal("error\n", Encoding.UTF8.GetString(await ReadAsync(store, done.ErrorFileId!)));
        Assert.Equal("key-a", await store.OwnerOfAsync(done.OutputFileId!, None));
        // Ended: later answers are not stored, and finishing again changes nothing.
        Assert.False(await store.SaveItemAsync("batch_1", 4, "d", false, "late\n"u8.ToArray(), null, None));
        Assert.Equal(done with { Metadata = null }, (await store.FinishAsync("batch_1", expired: true, 3000, null, None))! with { Metadata = null });
        Assert.Empty(await store.UnfinishedAsync(None));
    }

    [Fact]
    public async Task Ledger_rows_wait_with_their_items_until_marked_delivered()
    {
        var store = await CreateStoreAsync();
        var input = await UploadAsync(store, "x"u8.ToArray());
        await store.AddBatchAsync(NewBatch("batch_1", input.Id, 2), None);
        await store.SaveItemAsync("batch_1", 1, "a", false, "1\n"u8.ToArray(), "[1]", None);
        await store.SaveItemAsync("batch_1", 2, "b", false, "2\n"u8.ToArray(), null, None);

        var pending = await store.UndeliveredLedgerRowsAsync(null, 10, None);
        Assert.Equal(["[1]"], pending.Select(p => p.Rows));
        Assert.Empty(await store.UndeliveredLedgerRowsAsync("batch_other", 10, None));

        await store.MarkLedgerDeliveredAsync([pending[0].Item], None);
        Assert.Empty(await store.UndeliveredLedgerRowsAsync("batch_1", 10, None));
    }

    [Fact]
    public async Task A_cancel_moves_the_batch_to_cancelling_and_finishing_it_ends_it_cancelled()
    {
        var store = await CreateStoreAsync();
        var input = await UploadAsync(store, "x"u8.ToArray());
        await store.AddBatchAsync(NewBatch("batch_1", input.Id, 2), None);

        var cancelling = await store.RequestCancelAsync("batch_1", 1500, None);
        Assert.Equal(BatchStatuses.Cancelling, cancelling!.Status);
        Assert.Equal(1500, cancelling.CancellingAt);
        Assert.Equal(["batch_1"], (await store.UnfinishedAsync(None)).Select(b => b.Id));

        var cancelled = await store.FinishAsync("batch_1", expired: false, 1600, null, None);
        Assert.Equal(BatchStatuses.Cancelled, cancelled!.Status);
        Assert.Null(cancelled.OutputFileId);
        Assert.Null(await store.RequestCancelAsync("batch_unknown", 1700, None));
    }

    [Fact]
    public async Task Batches_list_newest_first_by_page_and_owner_and_a_failure_is_kept_with_its_errors()
    {
        var store = await CreateStoreAsync();
        var input = await UploadAsync(store, "x"u8.ToArray());
        await store.AddBatchAsync(NewBatch("batch_1", input.Id, 1, "key-a"), None);
        await store.AddBatchAsync(NewBatch("batch_2", input.Id, 1, "key-b"), None);
        await store.AddBatchAsync(NewBatch("batch_3", input.Id, 1, "key-a"), None);

        var page = await store.ListBatchesAsync(2, null, null, None);
        Assert.Equal(["batch_3", "batch_2"], page.Items.Select(b => b.Id));
        Assert.True(page.HasMore);
        Assert.Equal(["batch_1"], (await store.ListBatchesAsync(2, "batch_2", null, None)).Items.Select(b => b.Id));
        Assert.Equal(["batch_3", "batch_1"], (await store.ListBatchesAsync(10, null, "key-a", None)).Items.Select(b => b.Id));

        var failed = await store.FinishAsync("batch_2", expired: false, 1700, [new BatchJobError("batch_run_failed", "disk gone", null, null)], None);
        Assert.Equal(BatchStatuses.Failed, failed!.Status);
        Assert.Equal(1700, failed.FailedAt);
        Assert.Equal("disk gone", Assert.Single(failed.Errors!).Message);
        Assert.Equal(["batch_1", "batch_3"], (await store.UnfinishedAsync(None)).Select(b => b.Id));
        Assert.Equal(["batch_1", "batch_3"], await store.UnleasedAsync(0, 10, None));
    }

    [Fact]
    public async Task Only_an_unfinished_batch_is_leased()
    {
        var store = await CreateStoreAsync();
        var input = await UploadAsync(store, "x"u8.ToArray());
        await store.AddBatchAsync(NewBatch("batch_1", input.Id, 1), None);

        Assert.True(await store.TryLeaseAsync("batch_1", "gateway-a", 1_000, 31_000, None));
        Assert.True(await store.TryLeaseAsync("batch_1", "gateway-a", 11_000, 41_000, None));
        await store.FinishAsync("batch_1", expired: false, 2000, null, None);

        Assert.False(await store.TryLeaseAsync("batch_1", "gateway-a", 12_000, 42_000, None));
        Assert.False(await store.TryLeaseAsync("batch_unknown", "gateway-a", 12_000, 42_000, None));
        Assert.Empty(await store.UnleasedAsync(100_000, 10, None));
    }
}

public sealed class SqliteBatchJobStoreTests : BatchJobStoreContract
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-jobs-").FullName;
    private readonly List<BatchJobStore> _stores = [];

    protected override Task<IBatchJobStore> CreateStoreAsync()
    {
        var store = new BatchJobStore(Path.Combine(_directory, "jobs.db"));
        _stores.Add(store);
        return Task.FromResult<IBatchJobStore>(store);
    }

    public override Task InitializeAsync() => Task.CompletedTask;

    public override Task DisposeAsync()
    {
        _stores.ForEach(store => store.Dispose());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresBatchJobStoreTests(PostgresServer server) : BatchJobStoreContract
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly List<PostgresDatabase> _databases = [];
    private string _connection = "";

    protected override Task<IBatchJobStore> CreateStoreAsync()
    {
        var database = new PostgresDatabase(_connection, NullLogger<PostgresDatabase>.Instance);
        _databases.Add(database);
        return Task.FromResult<IBatchJobStore>(new PostgresBatchJobStore(database));
    }

    public override async Task InitializeAsync() => _connection = await server.CreateDatabaseAsync();

    public override async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_lease_held_by_one_gateway_is_refused_to_another_until_it_expires_or_is_released()
    {
        var a = await CreateStoreAsync();
        var b = await CreateStoreAsync();
        var input = await a.AddFileAsync(FilePurposes.Batch, "in.jsonl", new MemoryStream("x"u8.ToArray()), 1, 1000, null, None);
        await a.AddBatchAsync(new BatchJob
        {
            Id = "batch_1", Endpoint = "/v1/chat/completions", InputFileId = input.Id, CompletionWindow = "24h",
            Status = BatchStatuses.InProgress, CreatedAt = 1000, ExpiresAt = 90_000, Total = 1,
        }, None);
        Assert.Equal(["batch_1"], await b.UnleasedAsync(1_000, 10, None));

        Assert.True(await a.TryLeaseAsync("batch_1", "gateway-a", 1_000, 31_000, None));
        Assert.False(await b.TryLeaseAsync("batch_1", "gateway-b", 30_999, 60_999, None));
        Assert.Empty(await b.UnleasedAsync(30_999, 10, None));
        // Renewed by its holder, the lease lasts longer.
        Assert.True(await a.TryLeaseAsync("batch_1", "gateway-a", 11_000, 41_000, None));
        Assert.False(await b.TryLeaseAsync("batch_1", "gateway-b", 40_000, 70_000, None));

        // Its holder died: once expired, the other takes it, and the first can no longer renew.
        Assert.Equal(["batch_1"], await b.UnleasedAsync(41_000, 10, None));
        Assert.True(await b.TryLeaseAsync("batch_1", "gateway-b", 41_000, 71_000, None));
        Assert.False(await a.TryLeaseAsync("batch_1", "gateway-a", 41_001, 71_001, None));

        // Released by a holder that stops, it is free at once; a release by another is ignored.
        await a.ReleaseLeaseAsync("batch_1", "gateway-a", None);
        Assert.False(await a.TryLeaseAsync("batch_1", "gateway-a", 42_000, 72_000, None));
        await b.ReleaseLeaseAsync("batch_1", "gateway-b", None);
        Assert.True(await a.TryLeaseAsync("batch_1", "gateway-a", 42_000, 72_000, None));
    }
}
