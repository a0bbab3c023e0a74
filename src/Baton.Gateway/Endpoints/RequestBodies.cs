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

    private static BatonException TooLarge(long limit) => TooLarge("request body", limit, "gateway.maxRequestBodyBytes", null, "request_too_large");

    /// <summary>The 413 for a body, or a part of one, larger than the limit <paramref name="setting"/> configures.</summary>
    public static BatonException TooLarge(string what, long limit, string setting, string? param, string code) =>
        new(StatusCodes.Status413PayloadTooLarge, ErrorTypes.InvalidRequest,
            $"The {what} is larger than the gateway's limit of {limit} bytes ({setting}).", param, code);
}
