using System.Diagnostics;

namespace Baton.Telemetry;

/// <summary>
/// Continues the current trace to an upstream: the current activity (an attempt span, or the application's own
/// span when Baton records none) goes on the request as W3C <c>traceparent</c> and <c>tracestate</c>, through the
/// process's <see cref="DistributedContextPropagator"/>. Without a current activity nothing is added.
/// </summary>
internal static class TraceContext
{
    public static void Inject(HttpRequestMessage message)
    {
        if (Activity.Current is not { } activity)
        {
            return;
        }
        DistributedContextPropagator.Current.Inject(activity, message, static (carrier, name, value) =>
        {
            if (carrier is HttpRequestMessage request && value is not null)
            {
                request.Headers.Remove(name);
                request.Headers.TryAddWithoutValidation(name, value);
            }
        });
    }
}
