using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using static Baton.Gateway.Tests.Batching.Jobs.JobsGateway;

namespace Baton.Gateway.Tests.Batching.Jobs;

/// <summary>
/// Batches whose store fails while they run, input files in use, and uploads the form reader refuses: over real
/// HTTP, with the jobs in a real SQLite file (a trigger in it refuses to store one item, as a full disk would).
/// </summary>
public sealed class BatchJobsRecoveryTests
{
    private const string RefuseItemB =
        "CREATE TRIGGER refuse_b BEFORE INSERT ON batch_items WHEN NEW.custom_id = 'b' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;";

    /// <summary>
    /// Creates a batch of items a, b and c whose store refuses b; its id, and the count of timers started before it.
    /// </summary>
    private static async Task<(string Id, int Started)> CreateBatchRefusingItemBAsync(JobsGateway gateway, TimerRecordingTimeProvider time)
    {
        var fileId = await gateway.UploadAsync(Line("a"), Line("b"), Line("c"));
        await ExecuteAsync(gateway, RefuseItemB);
        var started = time.Started;
        var id = (await gateway.CreateBatchAsync(fileId)).GetProperty("id").GetString()!;
        return (id, started);
    }

    [Fact]
    public async Task A_batch_whose_answer_cannot_be_stored_runs_again_after_a_delay_and_completes()
    {
        var time = new TimerRecordingTimeProvider();
        await using var gateway = await StartAsync(o => o.Batch.MaxConcurrency = 1, time);
        var (id, started) = await CreateBatchRefusingItemBAsync(gateway, time);

        await time.WaitForTimerAsync(BatchJobService.FirstRetryDelay, started);
        var waiting = await gateway.GetBatchAsync(id);
        Assert.Equal("in_progress", waiting.GetProperty("status").GetString());
        Assert.Equal(1, Count(waiting, "completed"));

        await ExecuteAsync(gateway, "DROP TRIGGER refuse_b;");
        time.Advance(BatchJobService.FirstRetryDelay);

        var batch = await gateway.WaitForAsync(id, IsFinished);
        Assert.Equal("completed", batch.GetProperty("status").GetString());
        Assert.Equal(3, Count(batch, "completed"));
        var output = await gateway.ResultLinesAsync(batch.GetProperty("output_file_id").GetString());
        Assert.Equal(["a", "b", "c"], output.Select(l => l.GetProperty("custom_id").GetString()));
    }

    [Fact]
    public async Task A_batch_whose_store_keeps_failing_ends_failed_with_the_answers_stored_so_far()
    {
        var time = new TimerRecordingTimeProvider();
        await using var gateway = await StartAsync(o => o.Batch.MaxConcurrency = 1, time);
        var (id, started) = await CreateBatchRefusingItemBAsync(gateway, time);

        var delay = BatchJobService.FirstRetryDelay;
        for (var retry = 1; retry <= BatchJobService.MaxRetries; retry++)
        {
            await time.WaitForTimerAsync(delay, started);
            Assert.Equal("in_progress", (await gateway.GetBatchAsync(id)).GetProperty("status").GetString());
            started = time.Started;
            time.Advance(delay);
            delay *= 2;
        }

        var batch = await gateway.WaitForAsync(id, IsFinished);
        Assert.Equal("failed", batch.GetProperty("status").GetString());
        Assert.True(batch.GetProperty("failed_at").GetInt64() > 0);
        var error = Assert.Single(batch.GetProperty("errors").GetProperty("data").EnumerateArray());
        Assert.Equal("batch_run_failed", error.GetProperty("code").GetString());
        Assert.Contains("disk is full", error.GetProperty("message").GetString());
        Assert.Equal(1, Count(batch, "completed"));
        var output = await gateway.ResultLinesAsync(batch.GetProperty("output_file_id").GetString());
        Assert.Equal(["a"], output.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("error_file_id").ValueKind);
    }

    [Fact]
    public async Task The_input_file_of_a_batch_that_has_not_ended_cannot_be_deleted()
    {
        await using var gateway = await StartAsync();
        var fileId = await gateway.UploadAsync(Enumerable.Range(1, 12).Select(i => Line($"item-{i}", "paced-sim")).ToArray());
        var id = (await gateway.CreateBatchAsync(fileId)).GetProperty("id").GetString()!;

        using (var refused = await gateway.Http.DeleteAsync($"/v1/files/{fileId}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            var error = (await JsonAsync(refused)).GetProperty("error");
            Assert.Equal("file_in_use", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal("file_id", error.GetProperty("param").GetString());
            Assert.Contains(id, await gateway.Http.GetStringAsync("/v1/batches"));
        }
        Assert.StartsWith("{\"custom_id\":\"item-1\"", await gateway.Http.GetStringAsync($"/v1/files/{fileId}/content"));

        await gateway.WaitForAsync(id, b => Count(b, "completed") >= 1);
        await gateway.StopGatewayAsync();
        await gateway.StartGatewayAsync();
        using (var stillRefused = await gateway.Http.DeleteAsync($"/v1/files/{fileId}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, stillRefused.StatusCode);
        }
        using (await gateway.PostJsonAsync($"/v1/batches/{id}/cancel", ""))
        {
        }
        var batch = await gateway.WaitForAsync(id, IsFinished);
        Assert.Equal("cancelled", batch.GetProperty("status").GetString());
        Assert.True(Count(batch, "completed") >= 1);

        using var deleted = await gateway.Http.DeleteAsync($"/v1/files/{fileId}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
    }

    [Fact]
    public async Task A_form_over_a_limit_other_than_size_is_a_400_and_a_body_too_large_without_a_length_is_a_413()
    {
        await using var gateway = await StartAsync(o => o.Batch.MaxUploadBytes = 2048);

        // Small, but more fields than the form reader takes.
        using var fields = new ByteArrayContent(Encoding.UTF8.GetBytes(
            string.Concat(Enumerable.Range(0, 1100).Select(i => $"--B\r\nContent-Disposition: form-data; name=k{i}\r\n\r\nv\r\n")) + "--B--\r\n"));
        fields.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=B");
        using (var manyFields = await gateway.Http.PostAsync("/v1/files", fields))
        {
            Assert.Equal(HttpStatusCode.BadRequest, manyFields.StatusCode);
            var error = (await JsonAsync(manyFields)).GetProperty("error");
            Assert.Equal("invalid_multipart", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        }

        // Sent in chunks, so the size is known only while reading.
        using var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } };
        var file = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(new string('x', 200_000))));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "big.jsonl");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/files") { Content = form };
        request.Headers.TransferEncodingChunked = true;
        using (var tooLarge = await gateway.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
            var error = (await JsonAsync(tooLarge)).GetProperty("error");
            Assert.Equal("file_too_large", error.GetProperty("code").GetString());
            Assert.Equal("file", error.GetProperty("param").GetString());
        }
        Assert.Empty((await JsonAsync(await gateway.Http.GetAsync("/v1/files"))).GetProperty("data").EnumerateArray());
    }

    private static async Task ExecuteAsync(JobsGateway gateway, string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = gateway.JobsDatabase, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A fake clock that also tells which retry timers the batch service started, so a test advances it only once a
    /// retry waits. Only timers started from <see cref="BatchJobService"/> count: a request's own timeouts (120 s by
    /// default, as long as the third retry's delay) run on the same clock while an item is re-sent.
    /// </summary>
    private sealed class TimerRecordingTimeProvider() : FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture))
    {
        private readonly Lock _gate = new();
        private readonly List<TimeSpan> _started = [];
        private readonly List<(TimeSpan DueTime, TaskCompletionSource Seen)> _waiters = [];

        /// <summary>How many retry timers have been started.</summary>
        public int Started
        {
            get
            {
                lock (_gate)
                {
                    return _started.Count;
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (StartedByBatchService())
            {
                lock (_gate)
                {
                    _started.Add(dueTime);
                    _waiters.RemoveAll(w => w.DueTime == dueTime && w.Seen.TrySetResult());
                }
            }
            return timer;
        }

        /// <summary>
        /// Completes once a retry timer due in <paramref name="dueTime"/> is started after the first
        /// <paramref name="since"/>: signalled by the timer's creation, not polled. The real-time limit only ends a test
        /// that fails.
        /// </summary>
        public Task WaitForTimerAsync(TimeSpan dueTime, int since)
        {
            Task seen;
            lock (_gate)
            {
                if (_started.Skip(since).Contains(dueTime))
                {
                    return Task.CompletedTask;
                }
                var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((dueTime, waiter));
                seen = waiter.Task;
            }
            return WaitOrFailAsync(seen, dueTime);
        }

        /// <summary>
        /// Whether the batch service's retry wait is on the stack (its delay starts before its first await); named, as
        /// the run it calls from the same service also starts the request timeouts.
        /// </summary>
        private static bool StartedByBatchService() =>
            new StackTrace().GetFrames().Any(f => f.GetMethod()?.DeclaringType is { } type
                && type.DeclaringType == typeof(BatchJobService) && type.Name.Contains("<RetryLaterAsync>", StringComparison.Ordinal));

        private static async Task WaitOrFailAsync(Task seen, TimeSpan dueTime)
        {
            var finished = await Task.WhenAny(seen, Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(finished == seen, $"no retry timer of {dueTime} was started");
        }
    }
}
