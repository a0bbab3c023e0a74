using Baton.Caching;
using Baton.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Endpoints;

/// <summary><c>GET /v1/cache/stats</c> and <c>DELETE /v1/cache</c>: the response cache's size and hit rate, and purging it.</summary>
internal static class CacheEndpoints
{
    public static async Task<CacheStatsResponse> Stats(HttpContext http, BatonOptions options)
    {
        var cache = http.RequestServices.GetService<ResponseCache>();
        var stats = cache is null ? new CacheStatistics(0, 0, 0, 0) : await cache.GetStatisticsAsync(http.RequestAborted).ConfigureAwait(false);
        return new CacheStatsResponse(options.Cache.Mode?.ToLowerInvariant() ?? CacheModes.Off, stats.Entries, stats.Bytes, stats.Hits, stats.Misses, Math.Round(stats.HitRate, 4));
    }

    public static async Task<CachePurgeResponse> Purge(HttpContext http, string? model) =>
        new(http.RequestServices.GetService<ResponseCache>() is { } cache
            ? await cache.PurgeAsync(string.IsNullOrWhiteSpace(model) ? null : model, http.RequestAborted).ConfigureAwait(false)
            : 0);
}

/// <summary>The body of <c>GET /v1/cache/stats</c>.</summary>
public sealed record CacheStatsResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("mode")] string Mode,
    [property: System.Text.Json.Serialization.JsonPropertyName("entries")] long Entries,
    [property: System.Text.Json.Serialization.JsonPropertyName("bytes")] long Bytes,
    [property: System.Text.Json.Serialization.JsonPropertyName("hits")] long Hits,
    [property: System.Text.Json.Serialization.JsonPropertyName("misses")] long Misses,
    [property: System.Text.Json.Serialization.JsonPropertyName("hit_rate")] double HitRate);

/// <summary>The body of <c>DELETE /v1/cache</c>.</summary>
public sealed record CachePurgeResponse([property: System.Text.Json.Serialization.JsonPropertyName("deleted")] long Deleted);
