using System.Diagnostics;
using Baton.Errors;
using Baton.Providers;
using Baton.Requests;
using Baton.Routing;
using Microsoft.Extensions.Logging;

namespace Baton.Engine;

/// <summary>
/// The orchestrator every face of Baton calls: it resolves the requested model to its deployments and
/// asks them in order until one answers. A deployment that fails for a reason another might not share
/// (unavailable, rate limited, timed out, refused its key) hands over to the next; a request the upstream
/// finds invalid is returned as it is, since another deployment would refuse it too.
/// </summary>
public sealed partial class BatonEngine(ModelCatalog catalog, TimeProvider time, ILogger<BatonEngine> logger)
{
    public ModelCatalog Catalog => catalog;

    public async Task<ChatCompletionResult> CompleteAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var route = catalog.Resolve(request.Model);
        for (var i = 0; i < route.Deployments.Count; i++)
        {
            var deployment = route.Deployments[i];
            var started = time.GetTimestamp();
            try
            {
                var completion = await deployment.Provider.CompleteAsync(ToProviderRequest(request, deployment), cancellationToken).ConfigureAwait(false);
                var info = Describe(route, deployment, i + 1, time.GetElapsedTime(started));
                Log.Answered(logger, route.Name, info.Deployment, info.Attempts, info.UpstreamTime.TotalMilliseconds);
                return new ChatCompletionResult(completion, info);
            }
            catch (BatonException ex) when (CanHandOver(ex) && i < route.Deployments.Count - 1)
            {
                Log.HandedOver(logger, deployment.Id, ex.StatusCode, ex.Message);
            }
        }
        throw new UnreachableException("The last deployment's failure propagates from the loop.");
    }

    public async Task<ChatStreamResult> StreamAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var route = catalog.Resolve(request.Model);
        for (var i = 0; i < route.Deployments.Count; i++)
        {
            var deployment = route.Deployments[i];
            var started = time.GetTimestamp();
            try
            {
                var stream = await deployment.Provider.StreamAsync(ToProviderRequest(request, deployment), cancellationToken).ConfigureAwait(false);
                var info = Describe(route, deployment, i + 1, time.GetElapsedTime(started));
                Log.Answered(logger, route.Name, info.Deployment, info.Attempts, info.UpstreamTime.TotalMilliseconds);
                return new ChatStreamResult(stream, info);
            }
            catch (BatonException ex) when (CanHandOver(ex) && i < route.Deployments.Count - 1)
            {
                Log.HandedOver(logger, deployment.Id, ex.StatusCode, ex.Message);
            }
        }
        throw new UnreachableException("The last deployment's failure propagates from the loop.");
    }

    private static ProviderRequest ToProviderRequest(ChatRequest request, Deployment deployment) =>
        new(request, deployment.UpstreamModel, deployment.Parameters);

    private static RouteInfo Describe(ModelRoute route, Deployment deployment, int attempts, TimeSpan upstream) =>
        new(route.Name, deployment.Provider.Name, deployment.Id, deployment.UpstreamModel, attempts, upstream);

    private static bool CanHandOver(BatonException error) => error.Type != ErrorTypes.InvalidRequest;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Model {Model} answered by {Deployment} after {Attempts} attempt(s) in {UpstreamMs:0.0} ms")]
        public static partial void Answered(ILogger logger, string model, string deployment, int attempts, double upstreamMs);

        [LoggerMessage(2, LogLevel.Warning, "Deployment {Deployment} failed with {Status}; trying the next one: {Reason}")]
        public static partial void HandedOver(ILogger logger, string deployment, int status, string reason);
    }
}
