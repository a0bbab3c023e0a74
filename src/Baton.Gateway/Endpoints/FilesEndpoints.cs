using Baton.Batching.Jobs;
using Baton.Configuration;
using Baton.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// The subset of OpenAI's Files API the Batches API needs: upload a batch input file (<c>purpose=batch</c>),
/// list, describe, download and delete files; a batch's output and error files have purpose <c>batch_output</c>.
/// </summary>
internal static class FilesEndpoints
{
    /// <summary>Room for the multipart framing and the other form fields around the file itself.</summary>
    private const long FormOverhead = 64 * 1024;

    public static async Task UploadAsync(HttpContext http, BatchJobRunner runner, BatonOptions options)
    {
        var limit = options.Batch.MaxUploadBytes;
        if (http.Request.ContentLength > limit + FormOverhead)
        {
            throw TooLarge(limit);
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit + FormOverhead;
        }
        // Only multipart: a URL-encoded form cannot carry the file, and refusing it early says what is expected.
        if (!IsMultipartForm(http.Request.ContentType))
        {
            throw RequestBodies.UnsupportedMediaType(http.Request.ContentType, "multipart/form-data with the fields 'file' and 'purpose'");
        }
        IFormCollection form;
        var body = new ReadCountingStream(http.Request.Body);
        http.Request.Body = body;
        try
        {
            form = await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = limit + FormOverhead }, http.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // The server's body limit, set above to the upload limit.
            throw TooLarge(limit);
        }
        catch (InvalidDataException) when (body.BytesRead > limit + FormOverhead)
        {
            // The form reader's length limit: the body read is past the largest form allowed. Its other limits
            // (field count, header and key lengths) are hit by bodies far smaller.
            throw TooLarge(limit);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !http.RequestAborted.IsCancellationRequested)
        {
            // A boundary that never comes, a body cut short, a malformed part header: the form is the caller's fault
            // (IOException includes BadHttpRequestException, the server's own framing errors).
            throw BatonException.InvalidRequest($"The form could not be read: {ex.Message}", null, "invalid_multipart");
        }

        var purpose = form["purpose"].ToString();
        if (string.IsNullOrEmpty(purpose))
        {
            throw BatonException.InvalidRequest("Missing 'purpose': this gateway accepts 'batch'.", "purpose", "missing_required_parameter");
        }
        if (purpose != FilePurposes.Batch)
        {
            throw BatonException.InvalidRequest($"Invalid purpose '{purpose}': this gateway accepts only 'batch'.", "purpose", "invalid_value");
        }
        if (form.Files.GetFile("file") is not { } file)
        {
            throw BatonException.InvalidRequest("Missing 'file': send the batch input (JSONL) as a file field named 'file'.", "file", "missing_required_parameter");
        }
        if (file.Length > limit)
        {
            throw TooLarge(limit);
        }
        var name = Path.GetFileName(file.FileName);
        StoredFile stored;
        // The form reader has spooled the file to a temporary file (past a small in-memory threshold); it is copied
        // from there into the store in pieces, never held whole in memory.
        await using (var stream = file.OpenReadStream())
        {
            stored = await runner.Store.AddFileAsync(FilePurposes.Batch, string.IsNullOrWhiteSpace(name) ? "upload.jsonl" : name, stream, file.Length, runner.Now,
                GatewayAuth.Owner(http), http.RequestAborted);
        }
        await http.Response.WriteAsJsonAsync(JobViews.ToView(stored), JobViews.Json, http.RequestAborted);
    }

    public static async Task ListAsync(HttpContext http, BatchJobRunner runner)
    {
        var limit = JobViews.Limit(http.Request, 10_000, 10_000);
        var purpose = http.Request.Query["purpose"].ToString() is { Length: > 0 } p ? p : null;
        var page = await runner.Store.ListFilesAsync(purpose, limit, JobViews.After(http.Request), GatewayAuth.VisibleOwner(http), http.RequestAborted);
        await http.Response.WriteAsJsonAsync(JobViews.ToList(page, JobViews.ToView, f => f.Id), JobViews.Json, http.RequestAborted);
    }

    public static async Task GetAsync(HttpContext http, BatchJobRunner runner, string fileId)
    {
        if (!await VisibleAsync(http, runner, fileId) || await runner.Store.GetFileAsync(fileId, http.RequestAborted) is not { } file)
        {
            await ErrorResponses.WriteAsync(http, JobViews.NotFound("file", fileId, "file_id"));
            return;
        }
        await http.Response.WriteAsJsonAsync(JobViews.ToView(file), JobViews.Json, http.RequestAborted);
    }

    public static async Task GetContentAsync(HttpContext http, BatchJobRunner runner, string fileId)
    {
        if (!await VisibleAsync(http, runner, fileId))
        {
            await ErrorResponses.WriteAsync(http, JobViews.NotFound("file", fileId, "file_id"));
            return;
        }
        await using var content = await runner.Store.OpenFileContentAsync(fileId, http.RequestAborted);
        if (content is null)
        {
            await ErrorResponses.WriteAsync(http, JobViews.NotFound("file", fileId, "file_id"));
            return;
        }
        // Streamed from the database in pieces, whatever the file's size.
        http.Response.ContentType = "application/octet-stream";
        http.Response.ContentLength = content.Length;
        await content.CopyToAsync(http.Response.Body, 64 * 1024, http.RequestAborted);
    }

    public static async Task DeleteAsync(HttpContext http, BatchJobRunner runner, string fileId)
    {
        switch (await VisibleAsync(http, runner, fileId) ? await runner.Store.DeleteFileAsync(fileId, http.RequestAborted) : FileDeletion.NotFound)
        {
            case FileDeletion.NotFound:
                await ErrorResponses.WriteAsync(http, JobViews.NotFound("file", fileId, "file_id"));
                return;
            case FileDeletion.InUse:
                await ErrorResponses.WriteAsync(http, new BatonException(StatusCodes.Status409Conflict, ErrorTypes.InvalidRequest,
                    $"The file {fileId} is the input of a batch that has not ended; cancel the batch or wait for it to end, then delete the file.",
                    "file_id", "file_in_use"));
                return;
            default:
                await http.Response.WriteAsJsonAsync(new FileDeletedView(fileId, "file", true), JobViews.Json, http.RequestAborted);
                return;
        }
    }

    /// <summary>
    /// True when the caller may see the file or batch: the master key sees everything, a virtual key only what it
    /// created. To others it does not exist (404), so ids cannot be probed.
    /// </summary>
    internal static async Task<bool> VisibleAsync(HttpContext http, BatchJobRunner runner, string id) =>
        GatewayAuth.VisibleOwner(http) is not { } owner || await runner.Store.OwnerOfAsync(id, http.RequestAborted) == owner;

    private static bool IsMultipartForm(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
        && media.Boundary.Length > 0;

    private static BatonException TooLarge(long limit) => RequestBodies.TooLarge("file", limit, "batch.maxUploadBytes", "file", "file_too_large");

    /// <summary>Counts the bytes read from the request body, to tell the form reader's length limit from its other limits.</summary>
    private sealed class ReadCountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int read)
        {
            BytesRead += read;
            return read;
        }
    }
}
