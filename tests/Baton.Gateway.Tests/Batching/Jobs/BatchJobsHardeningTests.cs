using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using static Baton.Gateway.Tests.Batching.Jobs.JobsGateway;

namespace Baton.Gateway.Tests.Batching.Jobs;

/// <summary>
/// Batches with a bad line among good ones, and uploads too large to hold in memory: over real HTTP, with the jobs
/// and the ledger in real SQLite files.
/// </summary>
public sealed class BatchJobsHardeningTests
{
    private static string WithCacheTtl(string customId, string ttl) =>
        Line(customId).Replace("\"messages\"", $"\"metadata\":{{\"cache_ttl\":\"{ttl}\"}},\"messages\"", StringComparison.Ordinal);

    [Fact]
    public async Task Lines_with_an_invalid_cache_ttl_fail_alone_as_error_lines_and_the_others_complete_without_any_retry()
    {
        // The clock never moves: a batch that waited for a retry of its run (30 s at first) would never end.
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        await using var gateway = await StartAsync(time: time);
        string[] bad = ["NaN", "1e300", "-1"];
        var fileId = await gateway.UploadAsync([Line("first"), .. bad.Select((ttl, i) => WithCacheTtl($"bad-{i}", ttl)), Line("last")]);

        var created = await gateway.CreateBatchAsync(fileId);
        Assert.Equal("in_progress", created.GetProperty("status").GetString());
        var batch = await gateway.WaitForAsync(created.GetProperty("id").GetString()!, IsFinished);

        Assert.Equal("completed", batch.GetProperty("status").GetString());
        Assert.Equal((5, 2, 3), (Count(batch, "total"), Count(batch, "completed"), Count(batch, "failed")));
        var output = await gateway.ResultLinesAsync(batch.GetProperty("output_file_id").GetString());
        Assert.Equal(["first", "last"], output.Select(l => l.GetProperty("custom_id").GetString()));
        var errors = await gateway.ResultLinesAsync(batch.GetProperty("error_file_id").GetString());
        Assert.Equal(bad.Select((_, i) => $"bad-{i}"), errors.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.All(errors, line =>
        {
            var status = line.GetProperty("error").GetProperty("status_code").GetInt32();
            Assert.True(status is >= 400 and < 500, line.GetRawText());
        });
        Assert.Equal(2, await gateway.LedgerRequestsAsync());
    }

    [Fact]
    public async Task A_large_upload_streamed_in_chunks_is_stored_and_downloaded_byte_for_byte()
    {
        const long size = 50L * 1024 * 1024;
        await using var gateway = await StartAsync(o => o.Batch.MaxUploadBytes = size + 1024 * 1024);
        var sent = new GeneratedContent(size, seed: 11);

        using var upload = await gateway.Http.PostAsync("/v1/files", Form(sent));

        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var file = await JsonAsync(upload);
        Assert.Equal(size, file.GetProperty("bytes").GetInt64());
        using var download = await gateway.Http.GetAsync($"/v1/files/{file.GetProperty("id").GetString()}/content", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(size, download.Content.Headers.ContentLength);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var body = await download.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[81920];
            long received = 0;
            for (int read; (read = await body.ReadAsync(buffer)) > 0; received += read)
            {
                hash.AppendData(buffer, 0, read);
            }
            Assert.Equal(size, received);
        }
        Assert.Equal(Convert.ToHexString(sent.Sha256!), Convert.ToHexString(hash.GetHashAndReset()));
    }

    [Fact]
    public async Task An_upload_one_byte_over_the_limit_is_a_413_and_stores_nothing()
    {
        const long limit = 1024 * 1024;
        await using var gateway = await StartAsync(o => o.Batch.MaxUploadBytes = limit);
        var accepted = await gateway.Http.PostAsync("/v1/files", Form(new GeneratedContent(limit, seed: 1)));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var kept = (await JsonAsync(accepted)).GetProperty("id").GetString();

        // Sent in chunks: the size is known only once the file has been read.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/files") { Content = Form(new GeneratedContent(limit + 1, seed: 2)) };
        request.Headers.TransferEncodingChunked = true;
        using var tooLarge = await gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        var error = (await JsonAsync(tooLarge)).GetProperty("error");
        Assert.Equal("file_too_large", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("file", error.GetProperty("param").GetString());
        Assert.Contains("batch.maxUploadBytes", error.GetProperty("message").GetString());
        var files = (await JsonAsync(await gateway.Http.GetAsync("/v1/files"))).GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([kept], files.Select(f => f.GetProperty("id").GetString()));
    }

    private static MultipartFormDataContent Form(HttpContent file)
    {
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        return new MultipartFormDataContent { { new StringContent("batch"), "purpose" }, { file, "file", "big.jsonl" } };
    }

    /// <summary>
    /// Pseudo-random bytes made as they are sent, never held whole (its length is not announced, so it goes in chunks),
    /// and their SHA-256 once sent.
    /// </summary>
    private sealed class GeneratedContent(long length, int seed) : HttpContent
    {
        public byte[]? Sha256 { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var random = new Random(seed);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            for (var left = length; left > 0;)
            {
                var count = (int)Math.Min(buffer.Length, left);
                random.NextBytes(buffer.AsSpan(0, count));
                hash.AppendData(buffer, 0, count);
                await stream.WriteAsync(buffer.AsMemory(0, count));
                left -= count;
            }
            Sha256 = hash.GetHashAndReset();
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
