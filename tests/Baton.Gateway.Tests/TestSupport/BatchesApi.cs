using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Baton.Gateway.Tests.TestSupport;

/// <summary>The Batches API as the process-level batch tests drive it: upload and create, poll, read the counts.</summary>
public static class BatchesApi
{
    /// <summary>Uploads <paramref name="input"/> as a batch file and creates a chat-completions batch of it; returns the batch's id.</summary>
    public static async Task<string> CreateBatchAsync(HttpClient http, string input)
    {
        using var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(input));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "input.jsonl");
        using var upload = await http.PostAsync("/v1/files", form);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var fileId = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        using var create = await http.PostAsync("/v1/batches", new StringContent(
            $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        return JsonDocument.Parse(await create.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The batch's count of completed requests.</summary>
    public static int Completed(JsonElement batch) => batch.GetProperty("request_counts").GetProperty("completed").GetInt32();

    /// <summary>Polls the batch until <paramref name="done"/> holds, for at most 120 seconds.</summary>
    public static async Task<JsonElement> WaitForAsync(HttpClient http, string batchId, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var batch = JsonDocument.Parse(await http.GetStringAsync($"/v1/batches/{batchId}")).RootElement;
            if (done(batch))
            {
                return batch;
            }
            Assert.True(DateTime.UtcNow < deadline, "the batch did not get there in time: " + batch.GetRawText());
            await Task.Delay(20);
        }
    }
}
