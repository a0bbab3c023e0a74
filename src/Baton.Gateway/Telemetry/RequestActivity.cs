using System.Diagnostics;
using Baton.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

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
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (Activity.Current is not null || http.RequestServices.GetService<BatonTelemetry>() is not { Tracing: true })
        {
            return await next(context);
        }
        var headers = http.Request.Headers;
        if (!BatonTelemetry.Source.HasListeners())
        {
            // Nothing records Baton's spans: the caller's trace context goes to the upstream as it came.
            if (ActivityContext.TryParse(headers.TraceParent.ToString() is { Length: > 0 } sent ? sent : null, null, out _))
            {
                TraceContext.ContinueCallers(headers.TraceParent.ToString(), headers.TraceState.ToString() is { Length: > 0 } sentState ? sentState : null);
            }
            return await next(context);
        }
        ActivityContext.TryParse(headers.TraceParent.ToString() is { Length: > 0 } parent ? parent : null,
            headers.TraceState.ToString() is { Length: > 0 } state ? state : null, isRemote: true, out var caller);
        var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        using var activity = BatonTelemetry.Source.StartActivity(route is null ? http.Request.Method : http.Request.Method + " " + route, ActivityKind.Server, caller);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("http.request.method", http.Request.Method);
            activity.SetTag("url.path", http.Request.Path.Value);
            activity.SetTag("http.route", route);
        }
        try
        {
            var result = await next(context);
            return result;
        }
        finally
        {
            if (activity is not null)
            {
                // The status of an answer written by the endpoint itself; a result object not yet executed is a success.
                var status = http.Response.StatusCode;
                activity.SetTag("http.response.status_code", status);
                if (status >= 500)
                {
                    activity.SetStatus(ActivityStatusCode.Error);
                }
            }
        }
    }
}
