using System.Diagnostics;

namespace Baton.Telemetry;

/// <summary>
/// Continues the current trace to an upstream: the current activity (an attempt span, or the application's own
/// span when Baton records none) goes on the request as W3C <c>traceparent</c> and <c>tracestate</c>, through the
/// process's <see cref="DistributedContextPropagator"/>. When no span is recorded at all but the caller sent a trace
/// context (<see cref="ContinueCallers"/>), that context is passed on unchanged, so the upstream's spans are children
/// of the caller's. Without either, nothing is added.
/// </summary>
public static class TraceContext
{
    private static readonly AsyncLocal<CallerTrace?> Caller = new();

    /// <summary>
    /// The caller's <c>traceparent</c> (and <c>tracestate</c>), for the upstream requests made in this async flow
    /// while Baton records no span of its own. Called by the gateway only when the caller sent one.
    /// </summary>
    public static void ContinueCallers(string traceparent, string? tracestate) => Caller.Value = new CallerTrace(traceparent, tracestate);

    internal static void Inject(HttpRequestMessage message)
    {
        if (Activity.Current is not { } activity)
        {
            if (Caller.Value is { } caller)
            {
                Set(message, "traceparent", caller.Parent);
                if (caller.State is not null)
                {
                    Set(message, "tracestate", caller.State);
                }
            }
            return;
        }
        DistributedContextPropagator.Current.Inject(activity, message, static (carrier, name, value) =>
        {
            if (carrier is HttpRequestMessage request && value is not null)
            {
                Set(request, name, value);
            }
        });
    }

    private static void Set(HttpRequestMessage request, string name, string value)
    {
        request.Headers.Remove(name);
        request.Headers.TryAddWithoutValidation(name, value);
    }

    private sealed record CallerTrace(string Parent, string? State);
}
