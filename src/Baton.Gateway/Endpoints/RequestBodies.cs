using System.IO.Pipelines;
using Baton.Errors;
using Baton.Requests;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// Reads a JSON request body into a pooled buffer, refusing one that is not <c>application/json</c> with a 415 and one
/// over <c>gateway.maxRequestBodyBytes</c> with a 413.
/// </summary>
internal static class RequestBodies
{
    public const string JsonMediaType = "application/json";

    /// <exception cref="BatonException">415 when the body is not JSON; 413 when it is larger than <paramref name="limit"/>.</exception>
    /// <remarks>A <see cref="ValueTask{TResult}"/>: a body already received with the headers (most) is read without a task.</remarks>
    public static async ValueTask<PooledBuffer> ReadAsync(HttpContext http, long limit)
    {
        // A web page can send text/plain, a form or a typeless body to any address without asking first (no CORS
        // preflight); only application/json makes the browser ask, and the gateway answers no preflight unless
        // CORS is configured. So the media type is what keeps other sites' pages from posting requests here.
        if (!IsJson(http.Request.ContentType))
        {
            throw UnsupportedMediaType(http.Request.ContentType, JsonMediaType);
        }
        if (http.Request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }
        var length = http.Request.ContentLength;
        var body = new PooledBuffer((int)Math.Min(length ?? 4096, limit));
        bool complete;
        try
        {
            complete = length is { } known
                ? await ReadKnownLengthAsync(http.Request.BodyReader, body, known, http.RequestAborted)
                : await body.ReadFromAsync(http.Request.Body, limit, http.RequestAborted);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException && !http.RequestAborted.IsCancellationRequested)
        {
            // The server's own framing errors that are not BadHttpRequestException, e.g. a chunk size that
            // overflows: the body the client sent is broken, not the gateway.
            body.Dispose();
            throw BatonException.InvalidRequest($"The request body could not be read: {ex.Message}", null, "invalid_body");
        }
        catch
        {
            body.Dispose();
            throw;
        }
        if (!complete)
        {
            body.Dispose();
            throw TooLarge(limit);
        }
        return body;
    }

    /// <summary>
    /// Reads a body whose <c>Content-Length</c> is known (and within the limit) straight from the server's buffers into
    /// a buffer of that size: usually one read that finds the whole body already received with the headers, where the
    /// stream's reads would take two (the second to learn that the body has ended) and grow the buffer by 4 KB first.
    /// The server holds the client to the length it declared: fewer bytes before the connection ends is a bad request.
    /// </summary>
    private static async Task<bool> ReadKnownLengthAsync(PipeReader reader, PooledBuffer body, long length, CancellationToken cancellationToken)
    {
        while (body.Length < length)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            foreach (var segment in buffer)
            {
                body.Append(segment.Span);
            }
            reader.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }
        return true;
    }

    /// <summary>Whether a <c>Content-Type</c> is <c>application/json</c>, with no charset or UTF-8.</summary>
    internal static bool IsJson(string? contentType)
    {
        // What SDKs send, compared without parsing; anything else is parsed.
        if (string.Equals(contentType, JsonMediaType, StringComparison.OrdinalIgnoreCase)
            || string.Equals(contentType, "application/json; charset=utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || !media.MediaType.Equals(JsonMediaType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var charset = HeaderUtilities.RemoveQuotes(media.Charset);
        return !charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The 415 for a body of another media type than <paramref name="expected"/>.</summary>
    public static BatonException UnsupportedMediaType(string? contentType, string expected) =>
        new(StatusCodes.Status415UnsupportedMediaType, ErrorTypes.InvalidRequest,
            string.IsNullOrEmpty(contentType)
                ? $"The request has no Content-Type; send the body as {expected}."
                : $"Unsupported Content-Type '{contentType}'; send the body as {expected}" + (expected == JsonMediaType ? " (UTF-8)." : "."),
            "Content-Type", "unsupported_media_type");

    private static BatonException TooLarge(long limit) => TooLarge("request body", limit, "gateway.maxRequestBodyBytes", null, "request_too_large");

    /// <summary>The 413 for a body, or a part of one, larger than the limit <paramref name="setting"/> configures.</summary>
    public static BatonException TooLarge(string what, long limit, string setting, string? param, string code) =>
        new(StatusCodes.Status413PayloadTooLarge, ErrorTypes.InvalidRequest,
            $"The {what} is larger than the gateway's limit of {limit} bytes ({setting}).", param, code);
}
