using System.Net;
using Baton.Auth;
using Baton.Configuration;
using Baton.Errors;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Endpoints;

/// <summary>Marks an endpoint that needs no key (<c>/health</c>).</summary>
internal sealed class AnonymousEndpoint
{
    public static readonly AnonymousEndpoint Instance = new();
}

/// <summary>Marks an endpoint for the master key only (key administration, cache purge, health probes).</summary>
internal sealed class MasterKeyEndpoint
{
    public static readonly MasterKeyEndpoint Instance = new();
}

/// <summary>
/// Who may call. With <c>auth.masterKeyEnv</c>, every endpoint but <c>/health</c> needs a key, sent as
/// <c>Authorization: Bearer KEY</c> (OpenAI SDKs) or <c>x-api-key: KEY</c> (Anthropic SDKs); the caller's
/// identity is then kept on the request for the endpoints. Without it, only loopback clients are served,
/// unless <c>auth.allowAnonymous</c> accepts the risk.
/// </summary>
internal static class GatewayAuth
{
    private const string ApiKeyHeader = "x-api-key";

    /// <summary>
    /// The check <see cref="GatewayRequestFilter"/> makes, as middleware, for endpoints mapped with a request delegate (which endpoint filters do not reach):
    /// <c>/metrics</c>. The endpoint's metadata says which key it needs.
    /// </summary>
    public static async Task MiddlewareAsync(HttpContext http, RequestDelegate next)
    {
        var error = await AuthenticateAsync(http);
        if (error is not null)
        {
            await ErrorResponses.WriteAsync(http, error);
            return;
        }
        await next(http);
    }

    // The key under which a connection's items hold its PresentedKeyMemo.
    private static readonly object MemoKey = new();

    /// <summary>
    /// The connection's memo of the last key it presented; null over HTTP/2 and 3, whose requests share a connection
    /// at once, and where the server keeps no connection items.
    /// </summary>
    private static PresentedKeyMemo? MemoOf(HttpContext http)
    {
        if (!HttpProtocol.IsHttp11(http.Request.Protocol) || http.Features.Get<IConnectionItemsFeature>()?.Items is not { } items)
        {
            return null;
        }
        if (items.TryGetValue(MemoKey, out var memo) && memo is PresentedKeyMemo known)
        {
            return known;
        }
        var created = new PresentedKeyMemo();
        items[MemoKey] = created;
        return created;
    }

    /// <summary>The caller of an authenticated request; null when authentication is off.</summary>
    public static CallerIdentity? Caller(HttpContext http) => http.Features.Get<CallerIdentity>();

    /// <summary>The id to filter what a caller sees by: its own for a virtual key, null (everything) for the master key or without authentication.</summary>
    public static string? VisibleOwner(HttpContext http) => Caller(http) is { IsMaster: false } caller ? caller.Id : null;

    /// <summary>What the caller creates is recorded as its: its id, or null without authentication.</summary>
    public static string? Owner(HttpContext http) => Caller(http)?.Id;

    /// <summary>Authenticates the request and keeps its caller on it; the error to answer with, or null when it may go on.</summary>
    internal static ValueTask<BatonException?> AuthenticateAsync(HttpContext http) =>
        AuthenticateAsync(http, new GatewayServices(http.RequestServices));

    /// <summary>As <see cref="AuthenticateAsync(HttpContext)"/>, with the application's services given.</summary>
    internal static async ValueTask<BatonException?> AuthenticateAsync(HttpContext http, GatewayServices services)
    {
        var options = services.Options;
        var endpoint = http.GetEndpoint();
        if (!options.Auth.Enabled)
        {
            // Secure by default: without keys, the gateway answers only the machine it runs on.
            if (!options.Auth.AllowAnonymous && http.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
            {
                return new BatonException(StatusCodes.Status403Forbidden, "permission_error",
                    "This gateway has no keys configured and serves loopback clients only. Configure auth.masterKeyEnv, or set auth.allowAnonymous to true to accept the risk.",
                    code: "loopback_only");
            }
            return null;
        }
        if (endpoint?.Metadata.GetMetadata<AnonymousEndpoint>() is not null)
        {
            return null;
        }
        // The key is looked up where it lies in the header's value: no string of the secret per request.
        var presented = PresentedKeySpan(http.Request, out var found);
        var caller = await services.Keys.AuthenticateAsync(presented, MemoOf(http), http.RequestAborted);
        if (caller is null)
        {
            return new BatonException(StatusCodes.Status401Unauthorized, ErrorTypes.Authentication,
                !found
                    ? "You didn't provide an API key. Send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'."
                    : "Incorrect API key provided: it is unknown, expired or revoked.",
                code: "invalid_api_key");
        }
        if (!caller.IsMaster && endpoint?.Metadata.GetMetadata<MasterKeyEndpoint>() is not null)
        {
            return new BatonException(StatusCodes.Status403Forbidden, "permission_error",
                "This endpoint is for the master key only; a virtual key may not use it.", code: "master_key_required");
        }
        http.Features.Set(caller);
        return null;
    }

    /// <summary>The key from <c>Authorization: Bearer</c>, else from <c>x-api-key</c>; null when neither carries one.</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        var presented = PresentedKeySpan(request, out var found);
        return found ? presented.ToString() : null;
    }

    /// <summary>As <see cref="PresentedKey"/>, as a part of the header's own value; <paramref name="found"/> is false (and the span empty) when no header carries a key.</summary>
    private static ReadOnlySpan<char> PresentedKeySpan(HttpRequest request, out bool found)
    {
        const string Scheme = "Bearer ";
        // ToString of a header with one value is that value itself, not a copy.
        var authorization = request.Headers.Authorization.ToString().AsSpan();
        if (authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) && authorization[Scheme.Length..].Trim() is { Length: > 0 } bearer)
        {
            found = true;
            return bearer;
        }
        var apiKey = request.Headers[ApiKeyHeader].ToString().AsSpan().Trim();
        found = !apiKey.IsEmpty;
        return apiKey;
    }
}
