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
    /// <remarks>Every request passes here: one new value, and none for headers that are not sent.</remarks>
    public static BatonRequestOptions Merge(HttpContext http, BatonRequestOptions body, bool fingerprintKey)
    {
        var headers = http.Request.Headers;
        var cache = body.Cache;
        if (headers.CacheControl is { Count: > 0 } cacheControl)
        {
            cache = CacheControl(cache, cacheControl.ToString());
        }
        if (headers.TryGetValue(GatewayHeaders.CacheTtl, out var cacheTtl))
        {
            cache = cache with { Ttl = ParseTtl(cacheTtl.ToString()) };
        }
        // The identity comes from the key alone, never from the body or a header a caller could set.
        string? keyId;
        Auth.VirtualKey? key = null;
        if (GatewayAuth.Caller(http) is { } caller)
        {
            keyId = caller.Id;
            key = caller.Key;
        }
        else
        {
            keyId = fingerprintKey && GatewayAuth.PresentedKey(http.Request) is { } presented ? ApiKeyFingerprint.Of(presented) : null;
        }
        // The headers say what they say over the body's metadata (BatonRequestOptions.Over), field by field.
        return body with
        {
            Task = headers.TryGetValue(GatewayHeaders.Task, out var task) && !string.IsNullOrWhiteSpace(task) ? task.ToString() : body.Task,
            SessionId = headers.TryGetValue(GatewayHeaders.Session, out var session) && !string.IsNullOrWhiteSpace(session) ? session.ToString() : body.SessionId,
            Fallbacks = (headers.TryGetValue(GatewayHeaders.Fallbacks, out var fallbacks) ? ChatRequest.SplitModelList(fallbacks.ToString()) : null) ?? body.Fallbacks,
            Tags = (headers.TryGetValue(GatewayHeaders.Tags, out var tags) ? ChatRequest.SplitModelList(tags.ToString()) : null) ?? body.Tags,
            Cache = cache,
            ApiKeyId = keyId,
            Key = key,
        };
    }

    /// <summary>The directives of a <c>Cache-Control</c> header over <paramref name="cache"/>; the usual lone <c>no-cache</c> without parsing.</summary>
    private static CacheDirectives CacheControl(CacheDirectives cache, string header) =>
        cache == CacheDirectives.Default && header.Equals("no-cache", StringComparison.OrdinalIgnoreCase)
            ? NoLookup
            : cache.WithCacheControl(header);

    private static readonly CacheDirectives NoLookup = CacheDirectives.Default with { Lookup = false };

    private static TimeSpan ParseTtl(string value) =>
        double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && CacheDirectives.IsValidTtl(seconds)
            ? TimeSpan.FromSeconds(seconds)
            : throw BatonException.InvalidRequest(
                $"Invalid {GatewayHeaders.CacheTtl} header '{value}': expected a number of seconds greater than 0 and at most {CacheDirectives.MaxTtlSeconds}.",
                GatewayHeaders.CacheTtl, "invalid_value");
}
