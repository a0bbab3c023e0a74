using System.Diagnostics;
using System.Runtime.CompilerServices;
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
    // What every attempt span of a deployment shares (its name and five attributes), built once per deployment rather
    // than per attempt; weakly keyed, so the deployments of a replaced configuration take theirs with them.
    private static readonly ConditionalWeakTable<Deployment, SpanTemplate> Templates = new();

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
        var template = Templates.GetValue(deployment, static d => new SpanTemplate(d));
        var span = request.Telemetry.StartActivity(template.Name, ActivityKind.Client, request.Context);
        if (span is { IsAllDataRequested: true })
        {
            foreach (var (key, value) in template.Tags)
            {
                span.AddTag(key, value);
            }
            span.AddTag(TelemetryTags.Attempt, SpanValues.Of(attempt));
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

    private sealed class SpanTemplate(Deployment deployment)
    {
        public string Name { get; } = TelemetryTags.Chat + " " + deployment.UpstreamModel;

        public KeyValuePair<string, object?>[] Tags { get; } =
        [
            new(TelemetryTags.OperationName, TelemetryTags.Chat),
            new(TelemetryTags.ProviderName, deployment.Provider.Type),
            new(TelemetryTags.RequestModel, deployment.UpstreamModel),
            new(TelemetryTags.Provider, deployment.Provider.Name),
            new(TelemetryTags.Deployment, deployment.Id),
        ];
    }
}
