using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Baton.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Baton.Gateway.Dashboard;

/// <summary>
/// The dashboard's page, script and style sheet, embedded in this assembly (no CDN, so it works offline) and read
/// once. Each is answered with its ETag, so a browser revalidates instead of downloading it again, and with a
/// content security policy that lets the page run its own script and call its own origin, nothing else: it holds
/// the master key.
/// </summary>
internal static class DashboardAssets
{
    private const string ResourcePrefix = "Baton.Gateway.Dashboard.Assets.";

    private const string SecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    /// <summary>The names the dashboard serves: <c>index.html</c>, <c>dashboard.js</c>, <c>dashboard.css</c>.</summary>
    public static IEnumerable<string> Names => Assets.Keys;

    /// <summary>
    /// <c>GET /dashboard/{file?}</c>: the page, or one of its files; 404 for anything else. <c>/dashboard</c> (which
    /// routing matches too) redirects to <c>/dashboard/</c>, so the page's relative links resolve under any path base.
    /// </summary>
    public static IResult Serve(HttpContext http, string? file)
    {
        if (string.IsNullOrEmpty(file) && !http.Request.Path.Value!.EndsWith('/'))
        {
            return Results.Redirect($"{http.Request.PathBase}{http.Request.Path}/{http.Request.QueryString}");
        }
        if (!Assets.TryGetValue(string.IsNullOrEmpty(file) ? "index.html" : file, out var asset))
        {
            throw new BatonException(StatusCodes.Status404NotFound, ErrorTypes.InvalidRequest, $"The dashboard has no file '{file}'.", code: "unknown_url");
        }
        var headers = http.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = SecurityPolicy;
        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            assets[name] = new Asset(Read(assembly, resource), ContentTypeOf(name));
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Content, string ContentType)
    {
        public string ETag { get; } = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(Content))[..16]}\"").ToString();
    }
}
