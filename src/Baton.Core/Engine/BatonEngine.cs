using Baton.Accounting;
using Baton.Accounting.Budgets;
using Baton.Caching;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.OpenAi;
using Baton.RateLimiting;
using Baton.Requests;
using Baton.Resilience;
using Baton.Routing;
using Baton.Telemetry;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

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
    public ModelCatalog Catalog => catalog;

    public TaskRouter Tasks => tasks;

    internal TimeProvider Time => time;

    /// <summary>Prices, budgets and the ledger; null when the engine does no accounting.</summary>
    public CostAccountant? Accounting => accounting;

    /// <summary>Baton's traces and metrics; null when the engine records none.</summary>
    public BatonTelemetry? Telemetry => telemetry;

    public Task<ChatCompletionResult> CompleteAsync(ChatRequest request, CancellationToken cancellationToken) =>
        Monitoring.RequestObserver.CompleteAsync(recorder, request, CompleteCoreAsync, cancellationToken);

    private async Task<ChatCompletionResult> CompleteCoreAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var span = RequestTelemetry.Start(telemetry, request, time, stream: false);
        if (span is null)
        {
            return await CompleteAsync(request, span, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            return await CompleteAsync(request, span, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            span.Failed(error);
            throw;
        }
        finally
        {
            span.Stop();
        }
    }

    private async Task<ChatCompletionResult> CompleteAsync(ChatRequest request, RequestTelemetry? span, CancellationToken cancellationToken)
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
        await using var shared = await AdmitSharedAsync(plan, request, SharedParts.All, cancellationToken).ConfigureAwait(false);
        using var keyLease = shared?.Key ?? await AdmitKeyAsync(request, cancellationToken).ConfigureAwait(false);
        var started = time.GetTimestamp();
        await using var admission = shared?.Budget ?? await AdmitLocalAsync(plan, request, cancellationToken).ConfigureAwait(false);
        var attempts = new AttemptLog { Telemetry = span };
        using var total = new TimeoutScope(plan.Requested.Settings.TotalTimeout, time, cancellationToken);
        var (completion, candidate, lease) = await TryCandidatesAsync(plan, request, attempts, total,
            (c, providerRequest, token) => c.Deployment.Provider.CompleteAsync(providerRequest, token)).ConfigureAwait(false);
        lease.Complete(completion.Usage, completion.UpstreamRateLimit);
        keyLease.Complete(completion.Usage.TotalTokens);
        if (lookup.Stores && completion.Facts.IsComplete)
        {
            lookup.Save(candidate.Route.Name, candidate.Deployment.Id, completion.Body.ToArray(), completion.Usage);
        }
        var route = Describe(plan, candidate, attempts, time.GetElapsedTime(started),
            await candidate.Deployment.RateLimiter.SnapshotAsync(cancellationToken).ConfigureAwait(false)) with { Cache = lookup.Status };
        var result = new ChatCompletionResult(completion, route) { BudgetWarnings = admission.Warnings };
        if (accounting is not null)
        {
            // A provider's reported usage always wins; only an answer without any is counted by Baton.
            var reported = !completion.Usage.IsEmpty;
            var usage = reported ? completion.Usage
                : CostAccountant.EstimateUsage(request, completion.Facts.Text, candidate.Deployment.UpstreamModel, cancellationToken);
            result.CostUsd = accounting.RecordAttempt(request, route, candidate.Deployment, usage, time.GetElapsedTime(started), estimated: !reported);
            await admission.SettleAsync(result.CostUsd.Value).ConfigureAwait(false);
        }
        if (span is not null)
        {
            span.Facts?.Observe(completion.Facts);
            span.Succeeded(route, candidate.Deployment.Provider.Type, completion.Usage, result.CostUsd,
                span.CapturesContent ? completion.Facts.Text : null);
        }
        return result;
    }

    public Task<ChatStreamResult> StreamAsync(ChatRequest request, CancellationToken cancellationToken) =>
        Monitoring.RequestObserver.StreamAsync(recorder, request, StreamCoreAsync, cancellationToken);

    private async Task<ChatStreamResult> StreamCoreAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var span = RequestTelemetry.Start(telemetry, request, time, stream: true);
        if (span is null)
        {
            return await StreamAsync(request, span, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            var result = await StreamAsync(request, span, cancellationToken).ConfigureAwait(false);
            span.FirstChunk();
            return result;
        }
        catch (Exception error)
        {
            // The stream never began; once it has, the stream itself ends the span.
            span.Failed(error);
            span.Stop();
            throw;
        }
    }

    private async Task<ChatStreamResult> StreamAsync(ChatRequest request, RequestTelemetry? span, CancellationToken cancellationToken)
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
                replay = new TracedStream(replay, span, ProviderTypeOf(hitRoute), () => hitCost);
            }
            return new ChatStreamResult(replay, fixedCost: hitCost) { KeyLease = hitLease };
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
        try
        {
            admission = shared?.Budget ?? await AdmitLocalAsync(plan, request, cancellationToken).ConfigureAwait(false);
            var attempts = new AttemptLog { Telemetry = span };
            var (stream, candidate) = await StartStreamAsync(plan, request, attempts, cancellationToken).ConfigureAwait(false);
            var route = Describe(plan, candidate, attempts, time.GetElapsedTime(started),
                await candidate.Deployment.RateLimiter.SnapshotAsync(cancellationToken).ConfigureAwait(false)) with { Cache = lookup.Status };
            var billing = new StreamBilling(accounting, admission, time, started, logger);
            ChatStream answer = new FailoverStream(this, plan, request, stream, candidate, route, attempts, cancellationToken) { Billing = billing };
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
                answer = new TracedStream(answer, span, candidate.Deployment.Provider.Type, () => billing.Cost);
            }
            return new ChatStreamResult(answer, billing) { KeyLease = keyLease };
        }
        catch
        {
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
        if (accounting is null)
        {
            return BudgetAdmission.None;
        }
        try
        {
            return await accounting.AdmitAsync(request, plan.Upcoming.Select(c => c.Deployment).ToList(), cancellationToken).ConfigureAwait(false);
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

    /// <summary>Starts a stream on the next candidate that delivers a first chunk, trying each within the total timeout.</summary>
    internal async Task<(StartedStream Stream, Candidate Candidate)> StartStreamAsync(
        CandidatePlan plan, ChatRequest request, AttemptLog attempts, CancellationToken cancellationToken)
    {
        // The total timeout bounds the wait for an answer to begin; a long answer may then stream as long as
        // chunks keep coming within the idle timeout.
        using var total = new TimeoutScope(plan.Requested.Settings.TotalTimeout, time, cancellationToken);
        var (stream, candidate, lease) = await TryCandidatesAsync(plan, request, attempts, total, (c, providerRequest, token) =>
            StartedStream.StartAsync(c.Deployment.Provider, providerRequest, c.Deployment.Resilience.Settings.FirstChunkTimeout, time, token, cancellationToken))
            .ConfigureAwait(false);
        // The concurrency slot is held, and the tokens settled, when the stream ends.
        stream.Hold(lease);
        return (stream, candidate);
    }

    private async Task<CacheLookup> LookupAsync(ChatRequest request, CandidatePlan plan, CancellationToken cancellationToken) =>
        cache is null ? CacheLookup.Bypass : await cache.LookupAsync(request, plan.Requested, cancellationToken).ConfigureAwait(false);

    private static RouteInfo DescribeHit(CandidatePlan plan, CachedAnswer hit)
    {
        var slash = hit.Deployment.IndexOf('/', StringComparison.Ordinal);
        var route = new RouteInfo(hit.Model, slash > 0 ? hit.Deployment[..slash] : hit.Deployment, hit.Deployment,
            slash > 0 ? hit.Deployment[(slash + 1)..] : hit.Deployment, Attempts: 0, UpstreamTime: TimeSpan.Zero);
        return AsRequested(plan, route) with { Cache = CacheStatus.Hit };
    }

    /// <summary>Adds what the client asked for: the model (or <c>auto</c>), and the task and tier when routed by task.</summary>
    private static RouteInfo AsRequested(CandidatePlan plan, RouteInfo route) => route with
    {
        RequestedModel = plan.Task is null ? plan.Requested.Name : CandidatePlan.AutoModel,
        Task = plan.Task?.Task,
        Tier = plan.Task?.Tier,
    };

    internal void RecordInterruption(Candidate candidate, BatonException error, bool resuming, AttemptLog attempts)
    {
        candidate.Deployment.Resilience.RecordLateFailure(error);
        Log.StreamInterrupted(logger, candidate.Deployment.Id, resuming, error.Message);
        if (resuming)
        {
            attempts.Telemetry?.StreamResumed(candidate.Deployment.Id, error);
        }
    }

    /// <summary>
    /// The route of an answer. It is a fallback when a fallback model answered, and also when another deployment
    /// of the requested model answered after one failed: the client did not get the deployment it would have.
    /// </summary>
    internal static RouteInfo Describe(CandidatePlan plan, Candidate candidate, AttemptLog attempts, TimeSpan upstream, RateLimitSnapshot? rateLimit) =>
        AsRequested(plan, new RouteInfo(candidate.Route.Name, candidate.Deployment.Provider.Name, candidate.Deployment.Id, candidate.Deployment.UpstreamModel, attempts.Count, upstream)) with
        {
            FallbackUsed = candidate.IsFallback || attempts.Failures.Any(f => !string.Equals(f.Deployment, candidate.Deployment.Id, StringComparison.OrdinalIgnoreCase)),
            RateLimit = rateLimit,
        };

    /// <summary>
    /// Asks the candidates in turn until one answers. Each call holds a rate-limit lease, returned with the
    /// answer: the caller completes it with the reported usage (for a stream, when the stream ends).
    /// </summary>
    private async Task<(T Result, Candidate Candidate, RateLimitLease Lease)> TryCandidatesAsync<T>(
        CandidatePlan plan, ChatRequest request, AttemptLog attempts, TimeoutScope total,
        Func<Candidate, ProviderRequest, CancellationToken, Task<T>> call)
    {
        BatonException? last = null;
        var span = attempts.Telemetry;
        var limits = new RateLimitGate(plan, request, time, logger, span);
        while (plan.TryNext(out var next))
        {
            var deployment = next.Deployment;
            // An open breaker refuses the call without reaching the upstream (BrokenCircuitException below);
            // once its break is over, it lets this call through as the probe.
            RateLimitLease? lease = null;
            try
            {
                // May take another deployment of the same model, or wait for one to have room.
                (var candidate, lease) = await limits.AcquireAsync(next, total.Token).ConfigureAwait(false);
                deployment = candidate.Deployment;
                var guard = deployment.Resilience;
                var providerRequest = new ProviderRequest(request, deployment.UpstreamModel, deployment.Parameters, guard.Settings.AttemptTimeout);
                var held = lease;
                // Polly's retries of this deployment: every call after the first is one, logged with the failure before it.
                var tries = 0;
                BatonException? previous = null;
                var result = await guard.ExecuteAsync(
                    token => AttemptTelemetry.RunAsync(span, candidate.Deployment, attempts.Count,
                        () => RateLimitGate.LearnFromFailures(held.Limiter, call(candidate, providerRequest, token))),
                    () =>
                    {
                        attempts.Increment();
                        held.CountAttempt();
                        if (++tries > 1 && previous is not null)
                        {
                            var kind = RequestTelemetry.ErrorType(previous);
                            Log.Retrying(logger, candidate.Deployment.Id, tries, kind, previous.Message);
                            span?.Retried(candidate.Deployment.Id, kind);
                        }
                    },
                    error =>
                    {
                        previous = error;
                        attempts.Failed(candidate.Deployment, error);
                    },
                    total.Token).ConfigureAwait(false);
                Log.Answered(logger, plan.Requested.Name, deployment.Id, attempts.Count);
                if (candidate.IsFallback || attempts.Failures.Count > 0)
                {
                    Log.AnsweredAfterFailures(logger, plan.Requested.Name, candidate.Route.Name, deployment.Id, attempts.Count);
                }
                (var answered, lease) = (lease, null);
                return (result, candidate, answered);
            }
            catch (BrokenCircuitException)
            {
                Log.Skipped(logger, deployment.Id);
                var skipped = CircuitOpen(deployment);
                attempts.Failed(deployment, skipped);
                last ??= skipped;
            }
            catch (OperationCanceledException) when (total.TimedOut)
            {
                throw TotalTimeout(plan, total.Duration, attempts.Count, last);
            }
            catch (BatonException error)
            {
                last = error;
                var action = FailureClassifier.Classify(error);
                if (action == FailureAction.Fail || (action == FailureAction.ContextWindowExceeded && !plan.SwitchToLargerContext(next.Route)))
                {
                    throw;
                }
                Log.HandedOver(logger, deployment.Id, error.UpstreamStatus ?? error.StatusCode, error.Message);
            }
            finally
            {
                // A call that failed keeps its estimated charge (the upstream may have spent tokens) but frees its slot.
                lease?.Dispose();
            }
        }
        throw AllFailed(plan, attempts, last);
    }

    private static BatonException CircuitOpen(Deployment deployment) =>
        new(503, ErrorTypes.Upstream, $"Deployment '{deployment.Id}' is paused by its circuit breaker after repeated failures.", code: "circuit_open")
        {
            Provider = deployment.Provider.Name,
            RetryAfter = deployment.Resilience.Settings.BreakDuration,
        };

    private static BatonException AllFailed(CandidatePlan plan, AttemptLog attempts, BatonException? last)
    {
        if (last is null)
        {
            return new BatonException(503, ErrorTypes.Upstream, $"Model '{plan.Requested.Name}' has no deployment to try.", code: "no_deployment");
        }
        var failures = attempts.Failures;
        var listed = string.Join("; ", failures.Select((f, i) => $"{i + 1}) {f.Deployment}: {f.Message}"));
        return new BatonException(last.StatusCode, last.Type,
            $"No deployment of model '{plan.Requested.Name}' (or its fallbacks) could answer after {attempts.Count} attempt(s). " +
            $"Last failure: {last.Message}" + (failures.Count > 1 ? $" All attempts: {listed}" : ""),
            last.Param, last.Code)
        {
            Provider = last.Provider,
            UpstreamStatus = last.UpstreamStatus,
            RetryAfter = last.RetryAfter,
            Attempts = failures,
        };
    }

    private static BatonException TotalTimeout(CandidatePlan plan, TimeSpan limit, int attempts, BatonException? last) =>
        new(504, ErrorTypes.Timeout,
            $"Model '{plan.Requested.Name}' did not answer within its total timeout of {limit.TotalSeconds:0.###} s ({attempts} attempt(s))." +
            (last is null ? "" : $" Last failure: {last.Message}"),
            code: "total_timeout");

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Model {Model} answered by {Deployment} after {Attempts} attempt(s)")]
        public static partial void Answered(ILogger logger, string model, string deployment, int attempts);

        [LoggerMessage(2, LogLevel.Warning, "Deployment {Deployment} failed with {Status}; trying the next one: {Reason}")]
        public static partial void HandedOver(ILogger logger, string deployment, int status, string reason);

        [LoggerMessage(3, LogLevel.Information, "Deployment {Deployment} skipped: its circuit breaker is open")]
        public static partial void Skipped(ILogger logger, string deployment);

        [LoggerMessage(4, LogLevel.Warning, "Stream from {Deployment} was interrupted (resuming: {Resuming}): {Reason}")]
        public static partial void StreamInterrupted(ILogger logger, string deployment, bool resuming, string reason);

        [LoggerMessage(5, LogLevel.Information, "Retrying {Deployment} (call {Call}) after {ErrorType}: {Reason}")]
        public static partial void Retrying(ILogger logger, string deployment, int call, string errorType, string reason);

        [LoggerMessage(6, LogLevel.Information, "Model {Model} answered by {AnsweringModel} on {Deployment} after {Attempts} attempt(s), failing over")]
        public static partial void AnsweredAfterFailures(ILogger logger, string model, string answeringModel, string deployment, int attempts);

        [LoggerMessage(7, LogLevel.Warning, "Request for model {Model} by key {KeyId} refused by its budget ({Code}): {Reason}")]
        public static partial void BudgetRefused(ILogger logger, string model, string keyId, string code, string reason);
    }
}

/// <summary>Counts upstream calls across retries, deployments and fallbacks of one request, and keeps each failure.</summary>
public sealed class AttemptLog
{
    /// <summary>The request's span and metrics, for the attempts' spans and events; null without telemetry.</summary>
    internal RequestTelemetry? Telemetry { get; init; }

    private readonly List<AttemptFailure> _failures = [];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public IReadOnlyList<AttemptFailure> Failures
    {
        get
        {
            lock (_failures)
            {
                return [.. _failures];
            }
        }
    }

    public void Increment() => Interlocked.Increment(ref _count);

    public void Failed(Routing.Deployment deployment, BatonException error)
    {
        lock (_failures)
        {
            _failures.Add(new AttemptFailure(deployment.Id, error.UpstreamStatus, error.Code, error.Message));
        }
    }
}
