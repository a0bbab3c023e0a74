using System.Net;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;
using static Baton.Gateway.Tests.Batching.Jobs.JobsGateway;

namespace Baton.Gateway.Tests.Batching.Jobs;

/// <summary>The Files and Batches APIs over real HTTP, with the jobs and the ledger in real SQLite files.</summary>
public sealed class BatchJobsTests
{
    [Fact]
    public async Task A_file_is_uploaded_listed_described_downloaded_and_deleted()
    {
        await using var gateway = await StartAsync();
        var content = Line("a") + "\n" + Line("b") + "\n";
        using var upload = await gateway.UploadRawAsync(content, fileName: "requests.jsonl");
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var file = await JsonAsync(upload);
        var id = file.GetProperty("id").GetString()!;
        Assert.StartsWith("file-", id);
        Assert.Equal("file", file.GetProperty("object").GetString());
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(content), file.GetProperty("bytes").GetInt64());
        Assert.True(file.GetProperty("created_at").GetInt64() > DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());
        Assert.Equal("requests.jsonl", file.GetProperty("filename").GetString());
        Assert.Equal("batch", file.GetProperty("purpose").GetString());
        Assert.Equal("processed", file.GetProperty("status").GetString());

        var described = await JsonAsync(await gateway.Http.GetAsync($"/v1/files/{id}"));
        Assert.Equal(file.GetRawText(), described.GetRawText());
        var list = await JsonAsync(await gateway.Http.GetAsync("/v1/files?purpose=batch"));
        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Equal(id, Assert.Single(list.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(content, await gateway.Http.GetStringAsync($"/v1/files/{id}/content"));

        var deleted = await JsonAsync(await gateway.Http.DeleteAsync($"/v1/files/{id}"));
        Assert.Equal(id, deleted.GetProperty("id").GetString());
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        foreach (var gone in new[] { $"/v1/files/{id}", $"/v1/files/{id}/content" })
        {
            using var response = await gateway.Http.GetAsync(gone);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("not_found", (await JsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
        }
        using var again = await gateway.Http.DeleteAsync($"/v1/files/{id}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Bad_uploads_are_4xx_in_openai_error_shape()
    {
        await using var gateway = await StartAsync(o => o.Batch.MaxUploadBytes = 2048);

        await AssertErrorAsync(await gateway.UploadRawAsync(Line("a"), purpose: "fine-tune"), HttpStatusCode.BadRequest, "purpose");
        await AssertErrorAsync(await gateway.UploadRawAsync(Line("a"), purpose: null), HttpStatusCode.BadRequest, "purpose");
        using (var noFile = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } })
        {
            await AssertErrorAsync(await gateway.Http.PostAsync("/v1/files", noFile), HttpStatusCode.BadRequest, "file");
        }
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/files", "{}"), HttpStatusCode.UnsupportedMediaType, "Content-Type");
        await AssertErrorAsync(await gateway.UploadRawAsync(new string('x', 4096)), HttpStatusCode.RequestEntityTooLarge, "file");
        await AssertErrorAsync(await gateway.UploadRawAsync(new string('x', 200_000)), HttpStatusCode.RequestEntityTooLarge, null);

        var list = await JsonAsync(await gateway.Http.GetAsync("/v1/files"));
        Assert.Empty(list.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task An_upload_may_be_larger_than_kestrels_default_body_limit_up_to_batch_max_upload_bytes()
    {
        await using var gateway = await StartAsync(o => o.Batch.MaxUploadBytes = 40 * 1024 * 1024);
        var line = Line("big", question: new string('q', 1000));
        var content = string.Concat(Enumerable.Repeat(line.Replace("\"big\"", "\"ID\"", StringComparison.Ordinal) + "\n", 32 * 1024));

        using var upload = await gateway.UploadRawAsync(content);

        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        Assert.True((await JsonAsync(upload)).GetProperty("bytes").GetInt64() > 30_000_000);
    }

    [Fact]
    public async Task A_batch_completes_with_answers_in_the_output_file_and_a_failed_item_in_the_error_file()
    {
        await using var gateway = await StartAsync();
        var fileId = await gateway.UploadAsync(Line("one"), Line("two", "gpt-sim"), Line("broken", "broken-sim"), Line("three"));

        var created = await gateway.CreateBatchAsync(fileId, """{"project":"jobs-test"}""");
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("batch_", id);
        Assert.Equal("batch", created.GetProperty("object").GetString());
        Assert.Equal("/v1/chat/completions", created.GetProperty("endpoint").GetString());
        Assert.Equal(fileId, created.GetProperty("input_file_id").GetString());
        Assert.Equal("24h", created.GetProperty("completion_window").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("errors").ValueKind);
        Assert.Equal(4, Count(created, "total"));
        var createdAt = created.GetProperty("created_at").GetInt64();
        Assert.Equal(createdAt + 24 * 3600, created.GetProperty("expires_at").GetInt64());
        foreach (var field in new[] { "output_file_id", "error_file_id", "in_progress_at", "finalizing_at", "completed_at", "failed_at",
                     "expired_at", "cancelling_at", "cancelled_at", "metadata" })
        {
            Assert.True(created.TryGetProperty(field, out _), field);
        }
        Assert.Equal("jobs-test", created.GetProperty("metadata").GetProperty("project").GetString());

        var batch = await gateway.WaitForAsync(id, IsFinished);
        Assert.Equal("completed", batch.GetProperty("status").GetString());
        Assert.Equal(4, Count(batch, "total"));
        Assert.Equal(3, Count(batch, "completed"));
        Assert.Equal(1, Count(batch, "failed"));
        Assert.True(batch.GetProperty("in_progress_at").GetInt64() >= createdAt);
        Assert.True(batch.GetProperty("finalizing_at").GetInt64() >= createdAt);
        Assert.True(batch.GetProperty("completed_at").GetInt64() >= createdAt);
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("cancelled_at").ValueKind);

        var output = await gateway.ResultLinesAsync(batch.GetProperty("output_file_id").GetString());
        Assert.Equal(["one", "two", "three"], output.Select(l => l.GetProperty("custom_id").GetString()));
        foreach (var line in output)
        {
            Assert.StartsWith("batch_req_", line.GetProperty("id").GetString());
            Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32());
            Assert.Equal("chat.completion", line.GetProperty("response").GetProperty("body").GetProperty("object").GetString());
            Assert.Equal(JsonValueKind.Null, line.GetProperty("error").ValueKind);
        }
        var errors = await gateway.ResultLinesAsync(batch.GetProperty("error_file_id").GetString());
        var failed = Assert.Single(errors);
        Assert.Equal("broken", failed.GetProperty("custom_id").GetString());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("response").ValueKind);
        Assert.True(failed.GetProperty("error").GetProperty("status_code").GetInt32() >= 500);

        var outputFile = await JsonAsync(await gateway.Http.GetAsync($"/v1/files/{batch.GetProperty("output_file_id").GetString()}"));
        Assert.Equal("batch_output", outputFile.GetProperty("purpose").GetString());
    }

    [Fact]
    public async Task An_item_the_upstream_refuses_for_its_key_fails_and_the_key_appears_nowhere()
    {
        await using var gateway = await StartAsync();
        var fileId = await gateway.UploadAsync(Line("denied", "denied-sim"));

        var id = (await gateway.CreateBatchAsync(fileId)).GetProperty("id").GetString()!;

        var batch = await gateway.WaitForAsync(id, IsFinished);
        Assert.Equal(1, Count(batch, "failed"));
        var errorFileId = batch.GetProperty("error_file_id").GetString();
        var failed = Assert.Single(await gateway.ResultLinesAsync(errorFileId));
        Assert.Equal("denied", failed.GetProperty("custom_id").GetString());
        Assert.Equal(401, failed.GetProperty("error").GetProperty("status_code").GetInt32());
        var all = await gateway.Http.GetStringAsync("/v1/files") + await gateway.Http.GetStringAsync($"/v1/batches/{id}")
            + await gateway.Http.GetStringAsync($"/v1/files/{errorFileId}/content");
        Assert.DoesNotContain(GatewayServer.Key, all);
    }

    [Fact]
    public async Task Lines_that_are_not_json_or_repeat_a_custom_id_fail_the_batch_naming_each_line()
    {
        await using var gateway = await StartAsync();
        var fileId = await gateway.UploadAsync(Line("a"), "{not json", Line("a"), """{"custom_id":"u","method":"POST","url":"/v1/embeddings","body":{}}""", Line("b"));

        var batch = await gateway.CreateBatchAsync(fileId);

        Assert.Equal("failed", batch.GetProperty("status").GetString());
        Assert.True(batch.GetProperty("failed_at").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("in_progress_at").ValueKind);
        var errors = batch.GetProperty("errors");
        Assert.Equal("list", errors.GetProperty("object").GetString());
        var data = errors.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([2, 3, 4], data.Select(e => e.GetProperty("line").GetInt32()));
        Assert.Equal(["invalid_json_line", "duplicate_custom_id", "invalid_url"], data.Select(e => e.GetProperty("code").GetString()));
        Assert.All(data, e => Assert.Contains("Line ", e.GetProperty("message").GetString()));

        // It is not queued, and stays failed.
        var again = await gateway.GetBatchAsync(batch.GetProperty("id").GetString()!);
        Assert.Equal("failed", again.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, again.GetProperty("output_file_id").ValueKind);
    }

    [Fact]
    public async Task Bad_batch_requests_are_4xx_in_openai_error_shape_and_change_nothing()
    {
        await using var gateway = await StartAsync();
        var fileId = await gateway.UploadAsync(Line("a"));
        string Create(string file, string endpoint = "/v1/chat/completions", string window = "24h") =>
            $$"""{"input_file_id":"{{file}}","endpoint":"{{endpoint}}","completion_window":"{{window}}"}""";

        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches", Create("file-unknown")), HttpStatusCode.NotFound, "input_file_id");
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches", Create(fileId, endpoint: "/v1/embeddings")), HttpStatusCode.BadRequest, "endpoint");
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches", Create(fileId, window: "48h")), HttpStatusCode.BadRequest, "completion_window");
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches", """{"endpoint":"/v1/chat/completions","completion_window":"24h"}"""), HttpStatusCode.BadRequest, "input_file_id");
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches", "{not json"), HttpStatusCode.BadRequest, null);
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches", "[1]"), HttpStatusCode.BadRequest, null);
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches",
            $$$"""{"input_file_id":"{{{fileId}}}","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"n":1}}"""), HttpStatusCode.BadRequest, "metadata");
        await AssertErrorAsync(await gateway.Http.GetAsync("/v1/batches/batch_unknown"), HttpStatusCode.NotFound, "batch_id");
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches/batch_unknown/cancel", ""), HttpStatusCode.NotFound, "batch_id");
        await AssertErrorAsync(await gateway.Http.GetAsync("/v1/batches?limit=0"), HttpStatusCode.BadRequest, "limit");
        await AssertErrorAsync(await gateway.Http.GetAsync("/v1/batches?limit=abc"), HttpStatusCode.BadRequest, "limit");

        var list = await JsonAsync(await gateway.Http.GetAsync("/v1/batches"));
        Assert.Empty(list.GetProperty("data").EnumerateArray());
        Assert.Equal(Line("a") + "\n", await gateway.Http.GetStringAsync($"/v1/files/{fileId}/content"));

        // An output file is not a batch input.
        var batch = await gateway.WaitForAsync((await gateway.CreateBatchAsync(fileId)).GetProperty("id").GetString()!, IsFinished);
        await AssertErrorAsync(await gateway.PostJsonAsync("/v1/batches", Create(batch.GetProperty("output_file_id").GetString()!)), HttpStatusCode.BadRequest, "input_file_id");
        // A finished batch cannot be cancelled.
        await AssertErrorAsync(await gateway.PostJsonAsync($"/v1/batches/{batch.GetProperty("id").GetString()}/cancel", ""), HttpStatusCode.Conflict, "batch_id");
    }

    [Fact]
    public async Task Batches_are_listed_newest_first_in_pages()
    {
        await using var gateway = await StartAsync();
        var fileId = await gateway.UploadAsync(Line("a"));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await gateway.CreateBatchAsync(fileId)).GetProperty("id").GetString()!);
        }

        var first = await JsonAsync(await gateway.Http.GetAsync("/v1/batches?limit=2"));
        Assert.Equal("list", first.GetProperty("object").GetString());
        Assert.Equal([ids[2], ids[1]], first.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()));
        Assert.True(first.GetProperty("has_more").GetBoolean());
        Assert.Equal(ids[2], first.GetProperty("first_id").GetString());
        Assert.Equal(ids[1], first.GetProperty("last_id").GetString());

        var second = await JsonAsync(await gateway.Http.GetAsync($"/v1/batches?limit=2&after={ids[1]}"));
        Assert.Equal([ids[0]], second.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()));
        Assert.False(second.GetProperty("has_more").GetBoolean());
    }

    [Fact]
    public async Task Cancelling_stops_a_running_batch_and_keeps_the_answers_given()
    {
        await using var gateway = await StartAsync();
        var fileId = await gateway.UploadAsync(Enumerable.Range(1, 12).Select(i => Line($"item-{i}", "paced-sim")).ToArray());
        var id = (await gateway.CreateBatchAsync(fileId)).GetProperty("id").GetString()!;
        await gateway.WaitForAsync(id, b => Count(b, "completed") >= 1);

        using var cancel = await gateway.PostJsonAsync($"/v1/batches/{id}/cancel", "");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var cancelling = await JsonAsync(cancel);
        Assert.Contains(cancelling.GetProperty("status").GetString(), new[] { "cancelling", "cancelled" });
        Assert.True(cancelling.GetProperty("cancelling_at").GetInt64() > 0);

        var batch = await gateway.WaitForAsync(id, IsFinished);
        Assert.Equal("cancelled", batch.GetProperty("status").GetString());
        Assert.True(batch.GetProperty("cancelled_at").GetInt64() >= batch.GetProperty("cancelling_at").GetInt64());
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("completed_at").ValueKind);
        var completed = Count(batch, "completed");
        Assert.InRange(completed, 1, 11);
        Assert.Equal(0, Count(batch, "failed"));
        Assert.Equal(completed, (await gateway.ResultLinesAsync(batch.GetProperty("output_file_id").GetString())).Count);
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("error_file_id").ValueKind);

        // Cancelling again is harmless.
        using var again = await gateway.PostJsonAsync($"/v1/batches/{id}/cancel", "");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("cancelled", (await JsonAsync(again)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_batch_waiting_behind_another_is_cancelled_at_once_without_running()
    {
        await using var gateway = await StartAsync();
        var slowFile = await gateway.UploadAsync(Enumerable.Range(1, 12).Select(i => Line($"slow-{i}", "paced-sim")).ToArray());
        var running = (await gateway.CreateBatchAsync(slowFile)).GetProperty("id").GetString()!;
        await gateway.WaitForAsync(running, b => Count(b, "completed") >= 1);
        var waiting = (await gateway.CreateBatchAsync(await gateway.UploadAsync(Line("never")))).GetProperty("id").GetString()!;

        using var cancel = await gateway.PostJsonAsync($"/v1/batches/{waiting}/cancel", "");

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var cancelled = await JsonAsync(cancel);
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.Equal(0, Count(cancelled, "completed"));
        Assert.Equal(JsonValueKind.Null, cancelled.GetProperty("output_file_id").ValueKind);
        using (await gateway.PostJsonAsync($"/v1/batches/{running}/cancel", ""))
        {
        }
        Assert.Equal("cancelled", (await gateway.WaitForAsync(running, IsFinished)).GetProperty("status").GetString());
        var after = await gateway.GetBatchAsync(waiting);
        Assert.Equal("cancelled", after.GetProperty("status").GetString());
        Assert.Equal(0, Count(after, "completed"));
    }

    [Fact]
    public async Task A_restarted_gateway_finishes_the_batch_without_asking_any_finished_item_again()
    {
        await using var gateway = await StartAsync();
        const int Items = 8;
        var fileId = await gateway.UploadAsync(Enumerable.Range(1, Items).Select(i => Line($"item-{i}", "paced-sim", "restart")).ToArray());
        var id = (await gateway.CreateBatchAsync(fileId)).GetProperty("id").GetString()!;
        var before = await gateway.WaitForAsync(id, b => Count(b, "completed") >= 2);
        Assert.Equal("in_progress", before.GetProperty("status").GetString());

        await gateway.StopGatewayAsync();
        await gateway.StartGatewayAsync();

        var paused = await gateway.GetBatchAsync(id);
        Assert.InRange(Count(paused, "completed"), 2, Items - 1);
        var batch = await gateway.WaitForAsync(id, IsFinished);
        Assert.Equal("completed", batch.GetProperty("status").GetString());
        Assert.Equal(Items, Count(batch, "completed"));
        Assert.Equal(0, Count(batch, "failed"));
        var output = await gateway.ResultLinesAsync(batch.GetProperty("output_file_id").GetString());
        Assert.Equal(Enumerable.Range(1, Items).Select(i => $"item-{i}"), output.Select(l => l.GetProperty("custom_id").GetString()));
        // The ledger holds one row per upstream answer: each item was answered exactly once across both runs.
        Assert.Equal(Items, await gateway.LedgerRequestsAsync());
    }

    [Fact]
    public async Task A_batch_past_its_window_is_expired_with_the_answers_given_so_far()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var gateway = await StartAsync(o =>
        {
            // Only the batch's own 24-hour window may end the hanging requests.
            o.Defaults.TimeoutSeconds = 200_000;
            o.Resilience.AttemptTimeoutSeconds = 200_000;
            o.Resilience.TotalTimeoutSeconds = 200_000;
            o.Batch.MaxConcurrency = 4;
        }, time);
        var fileId = await gateway.UploadAsync(Line("quick-1"), Line("stuck-1", "hang-sim"), Line("quick-2"), Line("stuck-2", "hang-sim"));
        var created = await gateway.CreateBatchAsync(fileId);
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds(), created.GetProperty("created_at").GetInt64());
        await gateway.WaitForAsync(id, b => Count(b, "completed") == 2);

        time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));

        var batch = await gateway.WaitForAsync(id, IsFinished);
        Assert.Equal("expired", batch.GetProperty("status").GetString());
        Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds(), batch.GetProperty("expired_at").GetInt64());
        Assert.Equal(2, Count(batch, "completed"));
        Assert.Equal(0, Count(batch, "failed"));
        var output = await gateway.ResultLinesAsync(batch.GetProperty("output_file_id").GetString());
        Assert.Equal(["quick-1", "quick-2"], output.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("error_file_id").ValueKind);
    }

    [Fact]
    public async Task An_unreadable_jobs_database_does_not_take_the_gateway_down()
    {
        await using var gateway = await StartAsync(o =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(o.Batch.JobsDatabase)!);
            File.WriteAllText(o.Batch.JobsDatabase, new string('x', 8192));
        });

        using var chat = await gateway.PostJsonAsync("/v1/chat/completions", """{"model":"local-sim","messages":[{"role":"user","content":"still up?"}]}""");
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        using var list = await gateway.Http.GetAsync("/v1/batches");
        Assert.Equal(HttpStatusCode.InternalServerError, list.StatusCode);
        Assert.Equal("internal_error", (await JsonAsync(list)).GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(new string('x', 8192), await File.ReadAllTextAsync(gateway.JobsDatabase));
    }

    [Fact]
    public void The_jobs_database_and_upload_limit_are_validated_at_start_up()
    {
        var options = GatewayServer.CreateOptions("http://127.0.0.1:1");
        options.Batch.JobsDatabase = " ";
        options.Batch.MaxUploadBytes = 10;
        var errors = BatonOptionsValidator.Validate(options, _ => "key");
        Assert.Contains(errors, e => e.StartsWith("batch.jobsDatabase:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("batch.maxUploadBytes:", StringComparison.Ordinal));

        options.Batch.JobsDatabase = Path.GetTempPath();
        Assert.Contains(BatonOptionsValidator.Validate(options, _ => "key"), e => e.Contains("is a directory", StringComparison.Ordinal));
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? param)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            var error = (await JsonAsync(response)).GetProperty("error");
            Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            if (param is not null)
            {
                Assert.Equal(param, error.GetProperty("param").GetString());
            }
        }
    }
}
