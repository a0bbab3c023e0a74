using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;
using static Baton.Gateway.Tests.Batching.Jobs.JobsGateway;

namespace Baton.Gateway.Tests.Batching.Jobs;

/// <summary>The Files and Batches APIs as the official OpenAI .NET SDK drives them.</summary>
public sealed class BatchJobsSdkTests
{
    [Fact]
    public async Task The_openai_sdk_uploads_a_file_runs_a_batch_and_downloads_its_output()
    {
        await using var gateway = await StartAsync();
        var client = new OpenAIClient(new ApiKeyCredential("any-client-key"), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") });
        var files = client.GetOpenAIFileClient();
        var input = string.Join('\n', Line("first"), Line("second", "gpt-sim"), Line("third", "broken-sim")) + "\n";

        OpenAIFile uploaded = await files.UploadFileAsync(BinaryData.FromString(input), "requests.jsonl", FileUploadPurpose.Batch);
        Assert.StartsWith("file-", uploaded.Id);
        Assert.Equal(FilePurpose.Batch, uploaded.Purpose);
        Assert.Equal("requests.jsonl", uploaded.Filename);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(input), uploaded.SizeInBytes);
        Assert.Equal(uploaded.Id, (await files.GetFileAsync(uploaded.Id)).Value.Id);

#pragma warning disable OPENAI001 // The Batches client is experimental in the SDK.
        var batches = client.GetBatchClient();
        using var body = BinaryContent.Create(BinaryData.FromObjectAsJson(new
        {
            input_file_id = uploaded.Id,
            endpoint = "/v1/chat/completions",
            completion_window = "24h",
            metadata = new Dictionary<string, string> { ["run"] = "sdk" },
        }));
        var operation = await batches.CreateBatchAsync(body, waitUntilCompleted: false);
        Assert.StartsWith("batch_", operation.BatchId);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!operation.HasCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "the batch did not finish in time");
            await Task.Delay(50);
            await operation.UpdateStatusAsync();
        }
        var result = await operation.GetBatchAsync(new RequestOptions());
#pragma warning restore OPENAI001
        var batch = JsonDocument.Parse(result.GetRawResponse().Content.ToString()).RootElement;
        Assert.Equal("completed", batch.GetProperty("status").GetString());
        Assert.Equal("sdk", batch.GetProperty("metadata").GetProperty("run").GetString());
        Assert.Equal(3, Count(batch, "total"));
        Assert.Equal(2, Count(batch, "completed"));
        Assert.Equal(1, Count(batch, "failed"));

        var outputId = batch.GetProperty("output_file_id").GetString()!;
        OpenAIFile outputFile = await files.GetFileAsync(outputId);
        Assert.Equal(FilePurpose.BatchOutput, outputFile.Purpose);
        var output = (await files.DownloadFileAsync(outputId)).Value.ToString()
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["first", "second"], output.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.All(output, l => Assert.Equal(200, l.GetProperty("response").GetProperty("status_code").GetInt32()));
        var errors = (await files.DownloadFileAsync(batch.GetProperty("error_file_id").GetString()!)).Value.ToString();
        Assert.Contains("\"third\"", errors);

        var listed = (await files.GetFilesAsync(FilePurpose.BatchOutput)).Value;
        Assert.Equal(2, listed.Count);
        var deleted = (await files.DeleteFileAsync(uploaded.Id)).Value;
        Assert.True(deleted.Deleted);
    }
}
