using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Baton.Gateway.Tests.Auth;

/// <summary>What one key creates or spends is its own: another key is told it does not exist; the master key sees everything.</summary>
public sealed class OwnershipTests
{
    [Fact]
    public async Task A_key_sees_only_its_own_costs_files_and_batches()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (aliceId, aliceSecret) = await gateway.CreateKeyAsync("""{"name":"alice"}""");
        var (bobId, bobSecret) = await gateway.CreateKeyAsync("""{"name":"bob"}""");
        using var alice = gateway.Client(aliceSecret);
        using var bob = gateway.Client(bobSecret);
        using var master = gateway.Client(AuthGateway.MasterKey);

        for (var i = 0; i < 2; i++)
        {
            (await alice.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim", $"alice {i}")))).EnsureSuccessStatusCode();
        }
        (await bob.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim", "bob")))).EnsureSuccessStatusCode();
        var batch = await RunBatchAsync(alice, Line("one", "gpt-sim"));
        var inputId = batch.GetProperty("input_file_id").GetString()!;
        var outputId = batch.GetProperty("output_file_id").GetString()!;
        var batchId = batch.GetProperty("id").GetString()!;

        Assert.Equal(3, await RequestsAsync(alice, ""));
        Assert.Equal(1, await RequestsAsync(bob, ""));
        Assert.Equal(4, await RequestsAsync(master, ""));
        var byKey = JsonDocument.Parse(await master.GetStringAsync("/v1/costs?group_by=key")).RootElement.GetProperty("breakdown")
            .EnumerateArray().ToDictionary(g => g.GetProperty("key").GetString()!, g => g.GetProperty("totals").GetProperty("requests").GetInt64());
        Assert.Equal(3, byKey[aliceId]);
        Assert.Equal(1, byKey[bobId]);

        foreach (var path in new[] { $"/v1/files/{inputId}", $"/v1/files/{outputId}", $"/v1/files/{outputId}/content", $"/v1/batches/{batchId}" })
        {
            using var hidden = await bob.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            using var own = await alice.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
            using var everything = await master.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, everything.StatusCode);
        }
        using (var cancel = await bob.PostAsync($"/v1/batches/{batchId}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        }
        using (var delete = await bob.DeleteAsync($"/v1/files/{outputId}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }
        using (var reuse = await bob.PostAsync("/v1/batches", AuthGateway.Json(
            $$"""{"input_file_id":"{{inputId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""")))
        {
            Assert.Equal(HttpStatusCode.NotFound, reuse.StatusCode);
        }
        Assert.Equal(0, await CountAsync(bob, "/v1/files"));
        Assert.Equal(0, await CountAsync(bob, "/v1/batches"));
        Assert.Equal(2, await CountAsync(alice, "/v1/files"));
        Assert.Equal(1, await CountAsync(alice, "/v1/batches"));
        Assert.Equal(2, await CountAsync(master, "/v1/files"));

        // The batch's line ran as alice: its ledger row carries her key.
        var rows = await gateway.LedgerRowsAsync();
        Assert.Equal(3, rows.Count(r => r.ApiKey == aliceId));
        using var deleted = await alice.DeleteAsync($"/v1/files/{outputId}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_can_no_longer_start_a_batch_from_its_files()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (id, secret) = await gateway.CreateKeyAsync();
        using var client = gateway.Client(secret);
        using var master = gateway.Client(AuthGateway.MasterKey);
        var fileId = await UploadAsync(client, Line("one", "hang-sim"));
        (await master.DeleteAsync($"/admin/keys/{id}")).Dispose();

        using var refused = await client.PostAsync("/v1/batches", AuthGateway.Json(
            $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var listed = await client.GetAsync("/v1/files");
        Assert.Equal(HttpStatusCode.Unauthorized, listed.StatusCode);
        Assert.Equal(0, await CountAsync(master, "/v1/batches"));
    }

    public static string Line(string customId, string model) =>
        $$$"""{"custom_id":"{{{customId}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"{{{model}}}","messages":[{"role":"user","content":"hello {{{customId}}}"}]}}""";

    public static async Task<string> UploadAsync(HttpClient client, params string[] lines)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("batch"), "purpose");
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "input.jsonl");
        using var response = await client.PostAsync("/v1/files", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await AuthGateway.ReadJsonAsync(response)).GetProperty("id").GetString()!;
    }

    /// <summary>Uploads the lines, creates a batch of them and waits (at most 60 s) for it to finish.</summary>
    public static async Task<JsonElement> RunBatchAsync(HttpClient client, params string[] lines)
    {
        var fileId = await UploadAsync(client, lines);
        using var created = await client.PostAsync("/v1/batches", AuthGateway.Json(
            $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}"""));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var id = (await AuthGateway.ReadJsonAsync(created)).GetProperty("id").GetString();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var batch = JsonDocument.Parse(await client.GetStringAsync($"/v1/batches/{id}")).RootElement;
            if (batch.GetProperty("status").GetString() is "completed" or "failed" or "expired" or "cancelled")
            {
                return batch;
            }
            Assert.True(DateTime.UtcNow < deadline, "the batch did not finish in time: " + batch.GetRawText());
            await Task.Delay(50);
        }
    }

    private static async Task<long> RequestsAsync(HttpClient client, string query) =>
        JsonDocument.Parse(await client.GetStringAsync("/v1/costs" + query)).RootElement.GetProperty("total").GetProperty("requests").GetInt64();

    private static async Task<int> CountAsync(HttpClient client, string path) =>
        JsonDocument.Parse(await client.GetStringAsync(path)).RootElement.GetProperty("data").GetArrayLength();
}
