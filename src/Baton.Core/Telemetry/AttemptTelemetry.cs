using System.Diagnostics;
using Baton.Errors;
using Baton.Routing;

namespace Baton.Telemetry;

/// <summary>
/// The child span of one upstream attempt (<c>chat {upstream model}</c>, kind client): which deployment, the how-many-th
/// attempt of the request, and how it failed. For a stream it lasts until the first chunk arrived. While it runs it is
/// the current activity, so the upstream request carries its <c>traceparent</c>.
/// </summary>
internal static class AttemptTelemetry
{
    /// <summary>
    /// Starts the span of one upstream call when the request has one (null otherwise); the caller stops it (disposes of
    /// it) when the call has ended, after <see cref="Failed"/> when it failed. Started and ended by the caller's own
    /// async method rather than around a delegate, so that an attempt costs no closure and no task of its own.
    /// </summary>
    public static Activity? Start(RequestTelemetry? request, Deployment deployment, int attempt)
    {
        if (request?.Activity is null)
        {
            return null;
        }
        var span = request.Telemetry.StartActivity(TelemetryTags.Chat, deployment.UpstreamModel, ActivityKind.Client, request.Context);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(TelemetryTags.OperationName, TelemetryTags.Chat);
            span.SetTag(TelemetryTags.ProviderName, deployment.Provider.Type);
            span.SetTag(TelemetryTags.RequestModel, deployment.UpstreamModel);
            span.SetTag(TelemetryTags.Provider, deployment.Provider.Name);
            span.SetTag(TelemetryTags.Deployment, deployment.Id);
            span.SetTag(TelemetryTags.Attempt, attempt);
        }
        return span;
    }

    /// <summary>Marks the call's span as failed with <paramref name="error"/>: its status, error type and the upstream's HTTP status.</summary>
    public static void Failed(Activity span, Exception error)
    {
        var type = error switch
        {
            BatonException baton => RequestTelemetry.ErrorType(baton),
            OperationCanceledException => "cancelled",
            _ => error.GetType().FullName ?? "error",
        };
        span.SetStatus(ActivityStatusCode.Error, error is BatonException ? error.Message : type);
        span.SetTag(TelemetryTags.ErrorType, type);
        if (error is BatonException { UpstreamStatus: { } status })
        {
            span.SetTag(TelemetryTags.HttpStatus, status);
        }
    }
}
