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
    /// <summary>Runs one upstream call, in its own span when the request has one (otherwise the call as it is).</summary>
    public static Task<T> RunAsync<T>(RequestTelemetry? request, Deployment deployment, int attempt, Func<Task<T>> call) =>
        request?.Activity is null ? call() : RunTracedAsync(request, deployment, attempt, call);

    private static async Task<T> RunTracedAsync<T>(RequestTelemetry request, Deployment deployment, int attempt, Func<Task<T>> call)
    {
        using var span = request.Telemetry.StartActivity(TelemetryTags.Chat, deployment.UpstreamModel, ActivityKind.Client, request.Context);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(TelemetryTags.OperationName, TelemetryTags.Chat);
            span.SetTag(TelemetryTags.ProviderName, deployment.Provider.Type);
            span.SetTag(TelemetryTags.RequestModel, deployment.UpstreamModel);
            span.SetTag(TelemetryTags.Provider, deployment.Provider.Name);
            span.SetTag(TelemetryTags.Deployment, deployment.Id);
            span.SetTag(TelemetryTags.Attempt, attempt);
        }
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception error) when (span is not null)
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
            throw;
        }
    }
}
