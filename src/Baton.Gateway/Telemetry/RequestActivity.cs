using System.Diagnostics;
using System.Runtime.CompilerServices;
using Baton.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Baton.Gateway.Telemetry;

/// <summary>
/// The gateway's server span, continuing the caller's W3C trace context. ASP.NET Core's own per-request Activity
/// stays off in <c>baton serve</c> (it costs every request a scope and an Activity even when nobody listens); this
/// filter starts one on the <c>Baton</c> source instead, only while tracing is on, something listens to it (an exporter
/// is configured, or the application listens) and no span is current,
/// parented on the request's <c>traceparent</c>/<c>tracestate</c>. Baton's request and attempt spans then nest under
/// it, and the attempt spans carry the trace to the upstream. An application that maps Baton under its own ASP.NET
/// Core instrumentation already has a current span, and keeps it. When nothing listens, the caller's
/// <c>traceparent</c> is passed to the upstream unchanged.
/// </summary>
internal static class RequestActivity
{
    // The span's name per endpoint ("POST /v1/chat/completions"), built once rather than for every recorded request.
    private static readonly ConditionalWeakTable<RouteEndpoint, ServerSpanName> Names = new();

    /// <summary>
    /// Starts the request's server span when one should be recorded (null otherwise); without listeners, passes the
    /// caller's trace context on to the upstream instead. Called from the request's own async flow, so the span and
    /// the caller's context are current for everything the request does after it.
    /// </summary>
    /// <param name="http">The request.</param>
    /// <param name="telemetry">Baton's telemetry, from the application's services; null when none is registered.</param>
    public static Activity? Start(HttpContext http, BatonTelemetry? telemetry)
    {
        if (Activity.Current is not null || telemetry is not { Tracing: true })
        {
            return null;
        }
        var headers = http.Request.Headers;
        if (!BatonTelemetry.Source.HasListeners())
        {
            // Nothing records Baton's spans: the caller's trace context goes to the upstream as it came.
            if (ActivityContext.TryParse(headers.TraceParent.ToString() is { Length: > 0 } sent ? sent : null, null, out _))
            {
                TraceContext.ContinueCallers(headers.TraceParent.ToString(), headers.TraceState.ToString() is { Length: > 0 } sentState ? sentState : null);
            }
            return null;
        }
        ActivityContext.TryParse(headers.TraceParent.ToString() is { Length: > 0 } parent ? parent : null,
            headers.TraceState.ToString() is { Length: > 0 } state ? state : null, isRemote: true, out var caller);
        var endpoint = http.GetEndpoint() as RouteEndpoint;
        var route = endpoint?.RoutePattern.RawText;
        var method = http.Request.Method;
        var activity = BatonTelemetry.Source.StartActivity(route is null ? method : NameOf(endpoint!, method, route), ActivityKind.Server, caller);
        if (activity is { IsAllDataRequested: true })
        {
            activity.AddTag("http.request.method", method);
            if (http.Request.Path.Value is { } path)
            {
                activity.AddTag("url.path", path);
            }
            if (route is not null)
            {
                activity.AddTag("http.route", route);
            }
        }
        return activity;
    }

    private static string NameOf(RouteEndpoint endpoint, string method, string route)
    {
        // An endpoint usually answers one method: the first one's name is kept; another method (a HEAD, say) has its own built.
        if (Names.TryGetValue(endpoint, out var known) && string.Equals(known.Method, method, StringComparison.Ordinal))
        {
            return known.Name;
        }
        var name = method + " " + route;
        Names.TryAdd(endpoint, new ServerSpanName(method, name));
        return name;
    }

    private sealed record ServerSpanName(string Method, string Name);

    /// <summary>Ends the span <see cref="Start"/> began, with the status of the answer (errors included).</summary>
    public static void Stop(Activity? activity, HttpContext http)
    {
        if (activity is null)
        {
            return;
        }
        // The status of an answer written by the endpoint itself; a result object not yet executed is a success.
        var status = http.Response.StatusCode;
        activity.SetTag("http.response.status_code", status);
        if (status >= 500)
        {
            activity.SetStatus(ActivityStatusCode.Error);
        }
        activity.Dispose();
    }
}
