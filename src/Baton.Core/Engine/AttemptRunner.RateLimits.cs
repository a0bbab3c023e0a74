using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Requests;
using Baton.Routing;
using Baton.Telemetry;
using Microsoft.Extensions.Logging;

namespace Baton.Engine;

/// <summary>
/// The rate-limit step of one request. Before a candidate is called it takes a lease on its deployment;
/// when that deployment has no room, it takes a later deployment of the same model that has (which then
/// goes first), or waits for the first of them to have room, up to their longest <c>maxQueueWaitSeconds</c>.
/// Past that, the model's deployments are done for this request: its fallbacks may answer, or the caller
/// gets the 429 with <c>Retry-After</c>. Fallback models are never taken just to skip a queue.
/// </summary>
/// <remarks>Part of the runner rather than an object of its own: a request then allocates one object less.</remarks>
internal sealed partial class AttemptRunner
{
    // The models whose deployments refused this start (or resume) of the request; cleared as each begins.
    private Dictionary<ModelRoute, BatonException>? _refused;

    // A ValueTask: nearly every call is granted at once, without waiting, and then allocates nothing.
    private async ValueTask<(Candidate Candidate, RateLimitLease Lease)> AcquireAsync(Candidate candidate, ChatRequest attempted, CancellationToken cancellationToken)
    {
        if (_refused is not null && _refused.TryGetValue(candidate.Route, out var refused))
        {
            throw refused;
        }
        if (plan.Admitted is { } admitted)
        {
            // Taken with the key and the budget in the request's one round trip: used when it is this deployment's.
            plan.Admitted = null;
            if (ReferenceEquals(admitted.Limiter, candidate.Deployment.RateLimiter))
            {
                return (candidate, admitted);
            }
            admitted.Dispose();
        }
        // Counting the prompt costs a tokenizer pass: only done for a deployment with a token limit, and only
        // when the request is large enough against that limit for the count to matter.
        var tokens = candidate.Deployment.RateLimiter.Settings.TokensPerMinute is int perMinute
            ? TokenEstimator.Estimate(attempted, candidate.Deployment.Parameters.MaxTokens, perMinute)
            : 0;
        if ((await candidate.Deployment.RateLimiter.TryAcquireAsync(tokens, cancellationToken).ConfigureAwait(false)).Lease is { } lease)
        {
            return (candidate, lease);
        }
        return await WaitForAnyAsync(candidate, attempted, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The deployment had no room: the first of the model's deployments still to come that has room, or the first to
    /// have it within the longest queue wait. A method of its own, so that the closure choosing them is allocated only
    /// here, not by every request on entry to <see cref="AcquireAsync"/>.
    /// </summary>
    private async ValueTask<(Candidate Candidate, RateLimitLease Lease)> WaitForAnyAsync(Candidate candidate, ChatRequest attempted, CancellationToken cancellationToken)
    {
        var tokens = TokenEstimator.Estimate(attempted, candidate.Deployment.Parameters.MaxTokens);
        List<Candidate> group = [candidate, .. plan.Upcoming.Where(c => ReferenceEquals(c.Route, candidate.Route) && !c.Deployment.Resilience.IsOpen)];
        var limiters = group.ConvertAll(c => c.Deployment.RateLimiter);
        var waitStarted = time.GetTimestamp();
        try
        {
            var (index, granted) = await RateLimitQueue.AcquireAnyAsync(limiters, tokens, limiters.Max(l => l.Settings.MaxQueueWait), time, cancellationToken)
                .ConfigureAwait(false);
            if (index > 0)
            {
                plan.TakeInstead(group[index]);
            }
            var waited = time.GetElapsedTime(waitStarted);
            Log.Waited(logger, group[index].Deployment.Id, waited.TotalMilliseconds);
            Attempts.Telemetry?.RateLimitWaited(group[index].Deployment.Id, waited);
            return (group[index], granted);
        }
        catch (BatonException error)
        {
            (_refused ??= [])[candidate.Route] = error;
            Log.Refused(logger, candidate.Deployment.Id, time.GetElapsedTime(waitStarted).TotalMilliseconds, error.Message);
            Attempts.Telemetry?.RateLimitRefused(candidate.Deployment.Id, error);
            throw;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Debug, "Waited {WaitMs:0.###} ms for the rate limit of {Deployment}")]
        public static partial void Waited(ILogger logger, string deployment, double waitMs);

        [LoggerMessage(21, LogLevel.Warning, "Rate limit of {Deployment} refused the request after {WaitMs:0.###} ms: {Reason}")]
        public static partial void Refused(ILogger logger, string deployment, double waitMs, string reason);
    }
}
