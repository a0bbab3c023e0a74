using Baton.Errors;
using Baton.Requests;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>Reads a request body into a pooled buffer, refusing one over <c>gateway.maxRequestBodyBytes</c> with a 413.</summary>
internal static class RequestBodies
{
    /// <exception cref="BatonException">413 when the body is larger than <paramref name="limit"/>.</exception>
    public static async Task<PooledBuffer> ReadAsync(HttpContext http, long limit)
    {
        if (http.Request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }
        var body = new PooledBuffer((int)Math.Min(http.Request.ContentLength ?? 4096, limit));
        if (!await body.ReadFromAsync(http.Request.Body, limit, http.RequestAborted))
        {
            body.Dispose();
            throw TooLarge(limit);
        }
        return body;
    }

    private static BatonException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, ErrorTypes.InvalidRequest,
            $"The request body is larger than the gateway's limit of {limit} bytes (gateway.maxRequestBodyBytes).",
            code: "request_too_large");
}
