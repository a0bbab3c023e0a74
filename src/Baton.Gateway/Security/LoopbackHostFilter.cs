using System.Collections.Frozen;
using System.Net;
using Baton.Configuration;
using Baton.Errors;
using Baton.Gateway.Endpoints;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Security;

/// <summary>
/// Refuses, with 421, a request that arrives on a loopback address but names another host than a loopback one
/// (<c>localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c>) or one of <c>gateway.allowedHosts</c>. A web page that
/// rebinds its own name to 127.0.0.1 (DNS rebinding) can reach a gateway on the user's machine, and read its
/// answers as same-origin, but its requests still carry its own name in <c>Host</c>.
/// </summary>
/// <remarks>
/// On the request path this is a look at the connection's local address and a span comparison of the
/// <c>Host</c> value: no allocation. Requests arriving on other addresses (a gateway bound to a network
/// interface) are left alone: there the host names are the deployment's own business.
/// </remarks>
internal sealed class LoopbackHostFilter
{
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]"];

    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _allowed;
    private readonly bool _anyHost;

    public LoopbackHostFilter(GatewayOptions options)
    {
        _anyHost = options.AllowedHosts.Contains("*");
        _allowed = LoopbackNames.Concat(options.AllowedHosts)
            .ToFrozenSet(StringComparer.OrdinalIgnoreCase)
            .GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Whether the request may go on: it did not arrive on loopback, or its host is allowed.</summary>
    public bool Allows(HttpContext http)
    {
        if (_anyHost || http.Connection.LocalIpAddress is not { } local || !IsLoopback(local))
        {
            return true;
        }
        var host = WithoutPort(http.Request.Headers.Host.ToString());
        // What clients of a local gateway name, compared first; no Host at all (HTTP/1.0) is not something a browser sends.
        return host.SequenceEqual("127.0.0.1") || host.SequenceEqual("localhost") || host.IsEmpty || _allowed.Contains(host);
    }

    /// <remarks>Not async: an allowed request goes on without a state machine of its own.</remarks>
    public Task InvokeAsync(HttpContext http, RequestDelegate next) => Allows(http) ? next(http) : RefuseAsync(http);

    private static Task RefuseAsync(HttpContext http) =>
        ErrorResponses.WriteAsync(http, new BatonException(StatusCodes.Status421MisdirectedRequest, ErrorTypes.InvalidRequest,
            "This gateway listens on a loopback address and answers only requests for localhost, 127.0.0.1, [::1] or a host " +
            "listed in gateway.allowedHosts; the Host header names another.",
            "Host", "host_not_allowed"));

    private static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4()));

    /// <summary>The host of a <c>Host</c> value: <c>[::1]:8080</c> gives <c>[::1]</c>, <c>localhost:8080</c> gives <c>localhost</c>.</summary>
    internal static ReadOnlySpan<char> WithoutPort(ReadOnlySpan<char> host)
    {
        if (host.StartsWith('['))
        {
            var end = host.IndexOf(']');
            return end < 0 ? host : host[..(end + 1)];
        }
        var colon = host.IndexOf(':');
        return colon < 0 ? host : host[..colon];
    }
}
