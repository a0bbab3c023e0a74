using System.Net;

namespace Baton.Providers;

/// <summary>
/// The connection pool Baton uses for every upstream, configured the way a reverse proxy should be: no
/// proxy, no redirects, no decompression, no cookies, several HTTP/2 connections when one is saturated.
/// </summary>
public static class ProviderHttpHandlerFactory
{
    public static SocketsHttpHandler Create() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        // DNS changes are picked up without dropping warm connections too often.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // Baton's attempt span is the client span of an upstream call and puts its own traceparent on the request
        // (see TraceContext): the handler's diagnostics layer, which would start one more Activity per call, stays out.
        ActivityHeadersPropagator = null,
    };
}
