using Baton.Errors;
using Baton.Requests;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// Merges, once, what a gateway request carries beyond its body: the <c>X-Baton-*</c> and <c>Cache-Control</c>
/// headers over the body's metadata, and the caller's identity from its key.
/// </summary>
internal static class GatewayRequestOptions
{
    /// <summary>The caller's identity alone, for requests without a chat body of their own (batch items, pipeline steps).</summary>
    public static BatonRequestOptions Identity(HttpContext http, bool fingerprintKey)
    {
        if (GatewayAuth.Caller(http) is { } caller)
        {
            return new BatonRequestOptions { ApiKeyId = caller.Id, Key = caller.Key };
        }
        // Without keys, the presented key's fingerprint (bearer token, or x-api-key from Anthropic clients) still tells
        // callers apart in the ledger and budgets.
        return fingerprintKey && GatewayAuth.PresentedKey(http.Request) is { } presented
            ? new BatonRequestOptions { ApiKeyId = ApiKeyFingerprint.Of(presented) }
            : BatonRequestOptions.Empty;
    }

    /// <param name="http">The request's headers and caller.</param>
    /// <param name="body">The options read from the body's metadata, which the headers override.</param>
    /// <param name="fingerprintKey">Without authentication, hash the bearer token: only when a ledger or budgets will use it.</param>
    public static BatonRequestOptions Merge(HttpContext http, BatonRequestOptions body, bool fingerprintKey)
    {
        var headers = http.Request.Headers;
        var cache = body.Cache;
        if (headers.CacheControl is { Count: > 0 } cacheControl)
        {
            cache = cache.WithCacheControl(cacheControl.ToString());
        }
        if (headers.TryGetValue(GatewayHeaders.CacheTtl, out var cacheTtl))
        {
            cache = cache with { Ttl = ParseTtl(cacheTtl.ToString()) };
        }
        var fromHeaders = new BatonRequestOptions
        {
            Task = headers.TryGetValue(GatewayHeaders.Task, out var task) && !string.IsNullOrWhiteSpace(task) ? task.ToString() : null,
            SessionId = headers.TryGetValue(GatewayHeaders.Session, out var session) && !string.IsNullOrWhiteSpace(session) ? session.ToString() : null,
            Fallbacks = headers.TryGetValue(GatewayHeaders.Fallbacks, out var fallbacks) ? ChatRequest.SplitModelList(fallbacks.ToString()) : null,
            Tags = headers.TryGetValue(GatewayHeaders.Tags, out var tags) ? ChatRequest.SplitModelList(tags.ToString()) : null,
        };
        // The identity comes from the key alone, never from the body or a header a caller could set.
        var identity = Identity(http, fingerprintKey);
        return fromHeaders.Over(body) with { Cache = cache, ApiKeyId = identity.ApiKeyId, Key = identity.Key };
    }

    private static TimeSpan ParseTtl(string value) =>
        double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && CacheDirectives.IsValidTtl(seconds)
            ? TimeSpan.FromSeconds(seconds)
            : throw BatonException.InvalidRequest(
                $"Invalid {GatewayHeaders.CacheTtl} header '{value}': expected a number of seconds greater than 0 and at most {CacheDirectives.MaxTtlSeconds}.",
                GatewayHeaders.CacheTtl, "invalid_value");
}
