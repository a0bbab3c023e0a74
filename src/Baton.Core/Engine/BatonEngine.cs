using Baton.Accounting;
using Baton.Accounting.Budgets;
using Baton.Caching;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.OpenAi;
using Baton.Requests;
using Baton.Routing;
using Baton.Telemetry;
using Microsoft.Extensions.Logging;

namespace Baton.Engine;

/// <summary>
/// The orchestrator every face of Baton calls. It answers from the response cache when it can; otherwise it
/// admits the request against its budgets, plans which deployments may answer (the model's, then its
/// fallbacks'), and asks them in turn: each through its rate limits, retries and circuit breaker, the whole
/// bounded by the model's total timeout. A request the upstream finds invalid is returned as it is, since
/// every deployment would refuse it; a prompt too long for the model goes to its larger-context fallback.
/// Every answer is priced and queued for the ledger; every request is a span with a child span per attempt, and metrics.
/// </summary>
public sealed partial class BatonEngine(ModelCatalog catalog, TaskRouter tasks, TimeProvider time, ILogger<BatonEngine> logger,
    ResponseCache? cache = null, CostAccountant? accounting = null, Auth.KeyLimiter? keyLimits = null, BatonTelemetry? telemetry = null,
    Monitoring.RequestRecorder? recorder = null, Admission.IAdmissionStore? sharedAdmission = null){
    // The total timeouts of the requests' attempts, reused from one request to the next (see TimeoutScopePool).
    private readonly TimeoutScopePool _timeouts = new();

    public ModelCatalog Catalog => catalog;

    public TaskRouter Tasks => tasks;

    /// <summary>Prices, budgets and the ledger; null when the engine does no accounting.</summary>
    public CostAccountant? Accounting => accounting;

    /// <summary>Baton's traces and metrics; null when the engine records none.</summary>
    public BatonTelemetry? Telemetry => telemetry;

    /// <remarks>
    /// The request's observation (its span and metrics, the dashboard's record) runs in the same method as its steps,
    /// so that a request pays for one asynchronous state machine here rather than one for each.
    /// </remarks>
    public async Task<ChatCompletionResult> CompleteAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var observed = recorder?.Time.GetTimestamp() ?? 0;
        var span = RequestTelemetry.Start(telemetry, request, time, stream: false);
        ChatCompletionResult result;
        try
        {
            var plan = new CandidatePlan(catalog, request, tasks.Table, Random.Shared, accounting?.Prices);
            // The cache is looked up in process first, so that one shared admission runs per request: the key's alone
            // on a hit, the whole of it on a miss. A miss that leads for its key gives the lead back if refused.
            using var lookup = await LookupAsync(request, plan, cancellationToken).ConfigureAwait(false);
            span?.CacheLooked(lookup.Status);
            if (lookup.Answer is { } hit)
            {
                // A cached answer is still a request: a revoked or limited key gets its refusal, not the answer.
                using var hitLease = await AdmitKeyForHitAsync(plan, request, cancellationToken).ConfigureAwait(false);
                hitLease.Complete(0);
                result = AnswerHit(plan, request, hit, span);
            }
            else
            {
                await using var shared = await AdmitSharedAsync(plan, request, SharedParts.All, cancellationToken).ConfigureAwait(false);
                using var keyLease = shared?.Key ?? await AdmitKeyAsync(request, cancellationToken).ConfigureAwait(false);
                var started = time.GetTimestamp();
                await using var admission = shared?.Budget ?? await AdmitLocalAsync(plan, request, cancellationToken).ConfigureAwait(false);
                // The total timeout's scope comes from the pool: the answer is read in full before the runner returns.
                var runner = new AttemptRunner(plan, request, span, time, logger, _timeouts);
                var completion = await runner.CompleteAsync(cancellationToken).ConfigureAwait(false);
                var (candidate, lease) = runner.Answered;
                lease.Complete(completion.Usage, completion.UpstreamRateLimit);
                keyLease.Complete(completion.Usage.TotalTokens);
                if (lookup.Stores && completion.Facts.IsComplete)
                {
                    lookup.Save(candidate.Route.Name, candidate.Deployment.Id, completion.Body, completion.Usage);
                }
                var upstreamTime = time.GetElapsedTime(started);
                // Awaited before Describe is called, not as its argument: the arguments before it would be kept across the wait.
                var rateLimit = await candidate.Deployment.RateLimiter.SnapshotAsync(cancellationToken).ConfigureAwait(false);
                var route = runner.Describe(candidate, upstreamTime, rateLimit, lookup.Status);
                result = new ChatCompletionResult(completion, route) { BudgetWarnings = admission.Warnings };
                if (accounting is not null)
                {
                    result.CostUsd = Account(request, completion, route, candidate, started, cancellationToken);
                    await admission.SettleAsync(result.CostUsd.Value).ConfigureAwait(false);
                }
                if (span is not null)
                {
                    span.Facts?.Observe(completion.Facts);
                    span.Succeeded(route, candidate.Deployment.Provider.Type, completion.Usage, result.CostUsd,
                        span.CapturesContent ? completion.Facts.Text : null);
                }
            }
        }
        catch (Exception error)
        {
            Monitoring.RequestObserver.RequestFailed(recorder, span, request, stream: false, observed, error, cancellationToken);
            throw;
        }
        Monitoring.RequestObserver.CompleteSucceeded(recorder, span, request, observed, result);
        return result;
    }

    /// <summary>A cached answer: its ledger row (no cost), its span, and the result.</summary>
    private ChatCompletionResult AnswerHit(CandidatePlan plan, ChatRequest request, CachedAnswer hit, RequestTelemetry? span)
    {
        var hitRoute = DescribeHit(plan, hit);
        accounting?.RecordCacheHit(request, hitRoute, hit.Usage);
        decimal? hitCost = accounting is null ? null : 0m;
        var answer = new ProviderCompletion(hit.Body, hit.Usage);
        if (span is not null)
        {
            span.Facts?.Observe(answer.Facts);
            span.Succeeded(hitRoute, ProviderTypeOf(hitRoute), hit.Usage, hitCost, span.CapturesContent ? answer.Facts.Text : null);
        }
        return new ChatCompletionResult(answer, hitRoute) { CostUsd = hitCost };
    }

    /// <summary>
    /// The ledger row of a complete answer, and its cost. A provider's reported usage always wins; only an answer
    /// without any is counted by Baton.
    /// </summary>
    private decimal Account(ChatRequest request, ProviderCompletion completion, RouteInfo route, Candidate candidate, long started,
        CancellationToken cancellationToken)
    {
        var reported = !completion.Usage.IsEmpty;
        var usage = reported ? completion.Usage
            : CostAccountant.EstimateUsage(request, completion.Facts.Text, candidate.Deployment.UpstreamModel, cancellationToken);
        return accounting!.RecordAttempt(request, route, candidate.Deployment, usage, time.GetElapsedTime(started), estimated: !reported);
    }

    public Task<ChatStreamResult> StreamAsync(ChatRequest request, CancellationToken cancellationToken) =>
        StreamAsync(request, observe: recorder is not null || telemetry is not null, cancellationToken);

    /// <remarks>
    /// The recorder and telemetry observe the stream in this same asynchronous step (one state machine per stream,
    /// not one around another): its span and record begin before admission, the answer is wrapped to end them when
    /// the stream does, and a stream that never began is recorded as failed.
    /// </remarks>
    private async Task<ChatStreamResult> StreamAsync(ChatRequest request, bool observe, CancellationToken cancellationToken)
    {
        long observed = 0;
        var span = observe ? Monitoring.RequestObserver.StartStream(recorder, telemetry, time, request, out observed) : null;
        try
        {
            var plan = new CandidatePlan(catalog, request, tasks.Table, Random.Shared, accounting?.Prices);
            // As for a complete answer: the cache in process first, then one shared admission (the key's alone on a hit).
            var lookup = await LookupAsync(request, plan, cancellationToken).ConfigureAwait(false);
            span?.CacheLooked(lookup.Status);
            if (lookup.Answer is { } hit)
            {
                // The key's slot is held until the caller disposes of the stream.
                var hitLease = await AdmitKeyForHitAsync(plan, request, cancellationToken).ConfigureAwait(false);
                hitLease.Complete(0);
                var hitRoute = DescribeHit(plan, hit);
                accounting?.RecordCacheHit(request, hitRoute, hit.Usage);
                // A hit costs nothing, and says so like a plain hit does.
                decimal? hitCost = accounting is null ? null : 0m;
                ChatStream replay = new ReplayStream(hit, hitRoute);
                if (span is not null)
                {
                    replay = new TracedStream(replay, span, ProviderTypeOf(hitRoute), billing: null, hitCost);
                }
                return Began(observe, span, request, observed, new ChatStreamResult(replay, fixedCost: hitCost) { KeyLease = hitLease });
            }
            SharedAdmission? shared = null;
            Auth.KeyLease keyLease;
            try
            {
                shared = await AdmitSharedAsync(plan, request, SharedParts.All, cancellationToken).ConfigureAwait(false);
                keyLease = shared?.Key ?? await AdmitKeyAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // A refused request gives back its lead on the cache key, so that an identical request waiting may lead.
                lookup.Dispose();
                if (shared is not null)
                {
                    await shared.DisposeAsync().ConfigureAwait(false);
                }
                throw;
            }
            var started = time.GetTimestamp();
            BudgetAdmission? admission = null;
            StartedStream? upstream = null;
            try
            {
                admission = shared?.Budget ?? await AdmitLocalAsync(plan, request, cancellationToken).ConfigureAwait(false);
                var runner = new AttemptRunner(plan, request, span, time, logger, _timeouts);
                var stream = await runner.StartStreamAsync(request, cancellationToken).ConfigureAwait(false);
                var (candidate, lease) = runner.Answered;
                // The concurrency slot is held, and the tokens settled, when the stream ends.
                stream.Hold(lease);
                upstream = stream;
                var upstreamTime = time.GetElapsedTime(started);
                // Awaited before Describe is called, not as its argument: the arguments before it would be kept across the wait.
                var rateLimit = await candidate.Deployment.RateLimiter.SnapshotAsync(cancellationToken).ConfigureAwait(false);
                var route = runner.Describe(candidate, upstreamTime, rateLimit, lookup.Status);
                var billing = new StreamBilling(accounting, admission, time, started, logger);
                ChatStream answer = new FailoverStream(runner, stream, candidate, route, cancellationToken) { Billing = billing };
                if (lookup.Stores)
                {
                    answer = new CachingStream(answer, lookup);
                }
                else
                {
                    lookup.Dispose();
                }
                if (span is not null)
                {
                    answer = new TracedStream(answer, span, candidate.Deployment.Provider.Type, billing);
                }
                return Began(observe, span, request, observed, new ChatStreamResult(answer, billing) { KeyLease = keyLease });
            }
            catch
            {
                // A stream that started but is not handed to the caller (its deployment's rate-limit snapshot failed, a
                // shared store being unreachable, say) gives back its upstream response and its concurrency slot now.
                if (upstream is not null)
                {
                    await upstream.DisposeAsync().ConfigureAwait(false);
                }
                keyLease.Dispose();
                lookup.Dispose();
                shared?.ReleaseUnused();
                if (admission is not null)
                {
                    await admission.DisposeAsync().ConfigureAwait(false);
                }
                throw;
            }
        }
        catch (Exception error) when (observe)
        {
            Monitoring.RequestObserver.RequestFailed(recorder, span, request, stream: true, observed, error, cancellationToken);
            throw;
        }
    }

    /// <summary>A stream that began, wrapped for the recorder and telemetry when they observe it.</summary>
    private ChatStreamResult Began(bool observe, RequestTelemetry? span, ChatRequest request, long observed, ChatStreamResult began) =>
        observe ? Monitoring.RequestObserver.StreamBegan(recorder, span, request, observed, began) : began;

    /// <summary>The caller's key limits (rpm, tpm, max_parallel), checked before the cache: a cached answer is still a request.</summary>
    private ValueTask<Auth.KeyLease> AdmitKeyAsync(ChatRequest request, CancellationToken cancellationToken) =>
        request.Options.Key is { } key && keyLimits is not null
            ? keyLimits.AdmitAsync(key, request.PromptCharacters / 4, cancellationToken)
            : ValueTask.FromResult(Auth.KeyLease.None);

    /// <summary>
    /// Budget admission, before any upstream call: the worst-case cost on the dearest deployment the plan may
    /// reach, so that a cheap or free first deployment with a paid fallback cannot admit more than the budget holds.
    /// </summary>
    private async ValueTask<BudgetAdmission> AdmitAsync(CandidatePlan plan, ChatRequest request, CancellationToken cancellationToken)
    {
        // With shared state, the budget and the first deployment in one round trip (the deployment's lease waits in the plan).
        if (await AdmitSharedAsync(plan, request, SharedParts.BudgetAndDeployment, cancellationToken).ConfigureAwait(false) is { } shared)
        {
            return shared.Budget;
        }
        return await AdmitLocalAsync(plan, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The budget admission from the gateway's own state: no shared state, or a shared admission already tried that fell back.</summary>
    private async ValueTask<BudgetAdmission> AdmitLocalAsync(CandidatePlan plan, ChatRequest request, CancellationToken cancellationToken)
    {
        if (accounting is null || !accounting.BudgetsMayApplyTo(request))
        {
            return BudgetAdmission.None;
        }
        try
        {
            return await accounting.AdmitAsync(request, plan.UpcomingDeployments(), cancellationToken).ConfigureAwait(false);
        }
        catch (BatonException refused)
        {
            Log.BudgetRefused(logger, plan.Requested.Name, request.ApiKeyId ?? TelemetryTags.NoKey, refused.Code ?? refused.Type, refused.Message);
            throw;
        }
    }

    /// <summary>The type of the provider behind a deployment id (<c>openai</c>, <c>anthropic</c>, ...), for <c>gen_ai.provider.name</c>.</summary>
    private string ProviderTypeOf(RouteInfo route)
    {
        foreach (var deployment in catalog.Deployments)
        {
            if (string.Equals(deployment.Id, route.Deployment, StringComparison.OrdinalIgnoreCase))
            {
                return deployment.Provider.Type;
            }
        }
        return route.Provider;
    }

    // Not an async method: without a cache, the bypass is returned without a task of its own.
    private ValueTask<CacheLookup> LookupAsync(ChatRequest request, CandidatePlan plan, CancellationToken cancellationToken) =>
        cache is null ? ValueTask.FromResult(CacheLookup.Bypass) : cache.LookupAsync(request, plan.Requested, cancellationToken);

    private static RouteInfo DescribeHit(CandidatePlan plan, CachedAnswer hit)
    {
        var slash = hit.Deployment.IndexOf('/', StringComparison.Ordinal);
        var route = new RouteInfo(hit.Model, slash > 0 ? hit.Deployment[..slash] : hit.Deployment, hit.Deployment,
            slash > 0 ? hit.Deployment[(slash + 1)..] : hit.Deployment, Attempts: 0, UpstreamTime: TimeSpan.Zero);
        return AttemptRunner.AsRequested(plan, route) with { Cache = CacheStatus.Hit };
    }

    private static partial class Log
    {
        [LoggerMessage(7, LogLevel.Warning, "Request for model {Model} by key {KeyId} refused by its budget ({Code}): {Reason}")]
        public static partial void BudgetRefused(ILogger logger, string model, string keyId, string code, string reason);
    }
}
