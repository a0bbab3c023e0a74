using System.Runtime.CompilerServices;
using Baton.Embeddings;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Requests;
using Baton.Resilience;
using Baton.Routing;
using Baton.Telemetry;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace Baton.Engine;

/// <summary>
/// The upstream attempts of one request, and all the engine knows about them. It asks the plan's candidates in
/// turn, within the model's total timeout: for each, a rate-limit lease (and concurrency slot), then the
/// deployment's retries behind its circuit breaker, each call a child span; it keeps the attempt log, and
/// returns the answer (or the started stream) with the lease still held. A cut stream comes back here to
/// resume on the next candidate, so the first start and every resume go through the same steps.
/// </summary>
/// <remarks>
/// A runner given a <see cref="TimeoutScopePool"/> takes its total timeout from it. Nothing uses the scope's token once
/// the runner returns: a complete answer was read in full, and a started stream reads on with the caller's token (see
/// <see cref="StartedStream"/>); the total timeout bounds only the wait for an answer or a stream's first chunk.
/// </remarks>
internal sealed partial class AttemptRunner(CandidatePlan plan, ChatRequest request, RequestTelemetry? telemetry, TimeProvider time, ILogger logger,
    TimeoutScopePool? timeouts = null)
{
    /// <summary>The order in which deployments are tried; a resumed stream goes on from where the first start stopped.</summary>
    public CandidatePlan Plan => plan;

    /// <summary>The request as the caller sent it.</summary>
    public ChatRequest Request => request;

    public AttemptLog Attempts { get; } = new() { Telemetry = telemetry };

    public TimeProvider Time => time;

    // Per-deployment retry bookkeeping for the retry log line; attempts of one request never run concurrently.
    private int _tries;
    private BatonException? _previous;

    /// <summary>
    /// The candidate that gave the answer the last run returned, and its rate-limit lease, which the caller completes
    /// (for a stream, holds until the stream ends). Kept here rather than returned with the answer: a result of three
    /// values would be stored twice in each run's state machine, and once more in its caller's.
    /// </summary>
    public (Candidate Candidate, RateLimitLease Lease) Answered { get; private set; }

    /// <summary>A complete answer from the first candidate that gives one (see <see cref="Answered"/>).</summary>
    public ValueTask<ProviderCompletion> CompleteAsync(CancellationToken cancellationToken) =>
        RunAsync(request, 0, static (candidate, providerRequest, _, token) => candidate.Deployment.Provider.CompleteAsync(providerRequest, token),
            AsIs<int, ProviderCompletion>.Instance, cancellationToken);

    /// <summary>Embeddings from the first candidate that gives them (see <see cref="Answered"/>).</summary>
    public ValueTask<ProviderEmbeddings> EmbedAsync(EmbeddingRequest embeddings, CancellationToken cancellationToken) =>
        RunAsync(request, embeddings, static (candidate, providerRequest, embeddings, token) => EmbedOnceAsync(candidate, embeddings, providerRequest, token),
            AsIs<EmbeddingRequest, ProviderEmbeddings>.Instance, cancellationToken);

    /// <summary>
    /// Starts <paramref name="streamed"/> (the request, or its continuation after a cut) on the next candidate that
    /// delivers a first chunk. The caller hands the rate-limit lease (<see cref="Answered"/>) to the stream at once
    /// (<see cref="StartedStream.Hold"/>), which holds it until it ends.
    /// </summary>
    /// <remarks>
    /// Not an async method of its own, nor is the stream's start: the attempts' state machine awaits the upstream's
    /// acceptance and then the first chunk (<see cref="StartedStream.BeginAsync"/>), and is the only one a stream's start
    /// waits in here.
    /// </remarks>
    public ValueTask<StartedStream> StartStreamAsync(ChatRequest streamed, CancellationToken caller) =>
        // The total timeout bounds the wait for an answer to begin; a long answer may then stream as long as
        // chunks keep coming within the idle timeout.
        RunAsync(streamed, (Time: time, Caller: caller),
            static (candidate, providerRequest, _, token) => candidate.Deployment.Provider.StreamAsync(providerRequest, token),
            static (stream, candidate, state) => StartedStream.BeginAsync(stream, candidate.Deployment.Resilience.Settings.FirstChunkTimeout,
                state.Time, candidate.Deployment.Provider.Name, state.Caller), caller);

    /// <summary>Resumes a cut stream: the next candidates first; once all were tried, the ones that broke get another chance.</summary>
    public ValueTask<StartedStream> ResumeStreamAsync(ChatRequest continuation, CancellationToken caller)
    {
        if (plan.IsExhausted)
        {
            plan.Restart();
        }
        return StartStreamAsync(continuation, caller);
    }

    /// <summary>A stream cut after it had started counts against its deployment's health, and is logged (and traced when resumed).</summary>
    public void RecordInterruption(Candidate candidate, BatonException error, bool resuming)
    {
        candidate.Deployment.Resilience.RecordLateFailure(error);
        Log.StreamInterrupted(logger, candidate.Deployment.Id, resuming, error.Message);
        if (resuming)
        {
            Attempts.Telemetry?.StreamResumed(candidate.Deployment.Id, error);
        }
    }

    /// <summary>
    /// The route of an answer. It is a fallback when a fallback model answered, and also when another deployment
    /// of the requested model answered after one failed: the client did not get the deployment it would have.
    /// </summary>
    /// <remarks>Built in one piece, with what <see cref="AsRequested"/> adds, rather than copied once per addition.</remarks>
    public RouteInfo Describe(Candidate candidate, TimeSpan upstream, RateLimitSnapshot? rateLimit, Caching.CacheStatus cache = Caching.CacheStatus.Bypass) =>
        new(candidate.Route.Name, candidate.Deployment.Provider.Name, candidate.Deployment.Id, candidate.Deployment.UpstreamModel, Attempts.Count, upstream)
        {
            RequestedModel = plan.Task is null ? plan.Requested.Name : CandidatePlan.AutoModel,
            Task = plan.Task?.Task,
            Tier = plan.Task?.Tier,
            FallbackUsed = candidate.IsFallback || Attempts.FailedOnOtherThan(candidate.Deployment.Id),
            RateLimit = rateLimit,
            Cache = cache,
        };

    /// <summary>Adds what the client asked for: the model (or <c>auto</c>), and the task and tier when routed by task.</summary>
    public static RouteInfo AsRequested(CandidatePlan plan, RouteInfo route) => route with
    {
        RequestedModel = plan.Task is null ? plan.Requested.Name : CandidatePlan.AutoModel,
        Task = plan.Task?.Task,
        Tier = plan.Task?.Tier,
    };

    /// <summary>
    /// Asks the candidates in turn until one answers, within the requested model's total timeout. Each call holds a
    /// rate-limit lease, left with the answering candidate in <see cref="Answered"/>: the caller completes it with the
    /// reported usage (for a stream, when the stream ends). Each attempt is <paramref name="call"/>, then
    /// <paramref name="finish"/> with what it gave (a stream's first chunk awaited; an answer as it is). Both are static
    /// and get their <paramref name="state"/>, so that an attempt allocates no closure.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> RunAsync<TState, TCall, T>(
        ChatRequest attempted, TState state, Func<Candidate, ProviderRequest, TState, CancellationToken, Task<TCall>> call,
        Func<TCall, Candidate, TState, ValueTask<T>> finish, CancellationToken cancellationToken)
    {
        using var total = timeouts?.Rent(plan.Requested.Settings.TotalTimeout, time, cancellationToken)
            ?? new TimeoutScope(plan.Requested.Settings.TotalTimeout, time, cancellationToken);
        // Read after the scope started, so that it is never earlier than the moment the total timeout counts from.
        var totalStarted = time.GetTimestamp();
        BatonException? last = null;
        _refused = null;
        while (plan.TryNext(out var next))
        {
            var deployment = next.Deployment;
            // An open breaker refuses the call without reaching the upstream (BrokenCircuitException below);
            // once its break is over, it lets this call through as the probe.
            RateLimitLease? lease = null;
            try
            {
                // May take another deployment of the same model, or wait for one to have room.
                (var candidate, lease) = await AcquireAsync(next, attempted, total.Token).ConfigureAwait(false);
                deployment = candidate.Deployment;
                var guard = deployment.Resilience;
                // Polly's calls get these as one Attempt; the first call, made here, keeps only what it needs across its wait.
                var providerRequest = new ProviderRequest(attempted, deployment.UpstreamModel, deployment.Parameters,
                    AttemptTimeout(guard.Settings.AttemptTimeout, total.Duration, time.GetElapsedTime(totalStarted)));
                _tries = 0;
                _previous = null;
                // The deployment's breaker and retries, run in this method (see DeploymentResilience.ExecuteMeasuredAsync).
                var context = guard.EnterMeasured(total.Token);
                Polly.Outcome<object> outcome;
                try
                {
                    if (guard.ClosedHere)
                    {
                        // AttemptAsync's steps, here: the first call is awaited in this state machine alone.
                        var started = BeginAttempt(candidate, lease);
                        try
                        {
                            using var span = AttemptTelemetry.Start(Attempts.Telemetry, deployment, Attempts.Count);
                            try
                            {
                                var called = await call(candidate, providerRequest, state, total.Token).ConfigureAwait(false);
                                var answer = await finish(called, candidate, state).ConfigureAwait(false);
                                outcome = guard.Succeeded(answer!, started);
                            }
                            catch (Exception error) when (span is not null)
                            {
                                AttemptTelemetry.Failed(span, error);
                                throw;
                            }
                        }
                        catch (Exception error)
                        {
                            outcome = AttemptFailed(candidate, lease, error);
                        }
                        await guard.ReportMeasuredAsync(context, outcome).ConfigureAwait(false);
                    }
                    else
                    {
                        outcome = await guard.CallMeasuredAsync(context, AttemptCall<TState, TCall, T>.Instance,
                            new Attempt<TState, TCall, T>(this, candidate, providerRequest, lease, call, finish, state)).ConfigureAwait(false);
                    }
                    if (outcome.Exception is not null)
                    {
                        outcome = await guard.RetryMeasuredAsync(context, AttemptCall<TState, TCall, T>.Instance,
                            new Attempt<TState, TCall, T>(this, candidate, providerRequest, lease, call, finish, state), outcome).ConfigureAwait(false);
                    }
                }
                finally
                {
                    DeploymentResilience.ExitMeasured(context);
                }
                outcome.ThrowIfException();
                var result = (T)outcome.Result!;
                Log.Answered(logger, plan.Requested.Name, deployment.Id, Attempts.Count);
                if (candidate.IsFallback || Attempts.HasFailures)
                {
                    Log.AnsweredAfterFailures(logger, plan.Requested.Name, candidate.Route.Name, deployment.Id, Attempts.Count);
                }
                Answered = (candidate, lease);
                lease = null;
                return result;
            }
            catch (BrokenCircuitException)
            {
                Log.Skipped(logger, deployment.Id);
                var skipped = CircuitOpen(deployment);
                Attempts.Failed(deployment, skipped);
                last ??= skipped;
            }
            catch (OperationCanceledException) when (total.TimedOut)
            {
                throw TotalTimeout(total.Duration, last);
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
        throw AllFailed(last);
    }

    /// <summary>
    /// One call to the upstream, as the deployment's retry pipeline runs it: counted, traced when the request is,
    /// and on failure taught to the rate limiter (its headers, a 429's pause) and kept in the attempt log. Its outcome
    /// is recorded in the deployment's health here and returned to the breaker as an outcome, not thrown.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Polly.Outcome<object>> AttemptAsync<TState, TCall, T>(Attempt<TState, TCall, T> attempt, CancellationToken token)
    {
        var started = BeginAttempt(attempt.Candidate, attempt.Lease);
        try
        {
            // The attempt's span (when the request is traced) is current while the call runs, so the upstream request
            // carries its traceparent; it ends before the failure is recorded below, as the call's own span.
            using var span = AttemptTelemetry.Start(Attempts.Telemetry, attempt.Candidate.Deployment, Attempts.Count);
            try
            {
                var called = await attempt.Call(attempt.Candidate, attempt.ProviderRequest, attempt.State, token).ConfigureAwait(false);
                var answer = await attempt.Finish(called, attempt.Candidate, attempt.State).ConfigureAwait(false);
                return attempt.Candidate.Deployment.Resilience.Succeeded(answer!, started);
            }
            catch (Exception error) when (span is not null)
            {
                AttemptTelemetry.Failed(span, error);
                throw;
            }
        }
        catch (Exception error)
        {
            return AttemptFailed(attempt.Candidate, attempt.Lease, error);
        }
    }

    /// <summary>An attempt begins: counted, and, when it retries the deployment, logged with the failure before it. Returns when it started.</summary>
    private long BeginAttempt(in Candidate candidate, RateLimitLease lease)
    {
        var deployment = candidate.Deployment;
        var started = deployment.Resilience.CallStarted();
        Attempts.Increment();
        lease.CountAttempt();
        // Polly's retries of this deployment: every call after the first is one, logged with the failure before it.
        if (++_tries > 1 && _previous is not null)
        {
            var kind = RequestTelemetry.ErrorType(_previous);
            Log.Retrying(logger, deployment.Id, _tries, kind, _previous.Message);
            Attempts.Telemetry?.Retried(deployment.Id, kind);
        }
        return started;
    }

    /// <summary>A failed attempt: taught to the rate limiter (its headers, a 429's pause), kept in the attempt log, and returned as the breaker's outcome.</summary>
    private Polly.Outcome<object> AttemptFailed(in Candidate candidate, RateLimitLease lease, Exception failure)
    {
        var guard = candidate.Deployment.Resilience;
        if (failure is not BatonException error)
        {
            return guard.Failed(failure);
        }
        lease.Limiter.Observe(error);
        _previous = error;
        Attempts.Failed(candidate.Deployment, error);
        return guard.Failed(error);
    }

    /// <summary>
    /// The timeout of the attempts on a deployment: its own, or none (<see cref="Timeout.InfiniteTimeSpan"/>) when it
    /// would end only after the total timeout has (the default, where both are equal and the total started first).
    /// Such an attempt timeout could never fire first, so the attempt is spared a second timer and cancellation source.
    /// Retries come later still, so what holds for the first attempt on the deployment holds for them too.
    /// </summary>
    internal static TimeSpan AttemptTimeout(TimeSpan attempt, TimeSpan total, TimeSpan totalElapsed) =>
        total != Timeout.InfiniteTimeSpan && attempt != Timeout.InfiniteTimeSpan && attempt > total - totalElapsed ? Timeout.InfiniteTimeSpan : attempt;

    /// <summary>One attempt on one deployment, its vectors brought to the dimensions asked for.</summary>
    private static async Task<ProviderEmbeddings> EmbedOnceAsync(Candidate candidate, EmbeddingRequest request, ProviderRequest providerRequest, CancellationToken cancellationToken)
    {
        var deployment = candidate.Deployment;
        if (deployment.Provider is not IEmbeddingProvider provider)
        {
            throw BatonException.InvalidRequest(
                $"The deployment '{deployment.Id}' is on a provider of type '{deployment.Provider.Type}', which serves no embeddings.", "model", "embeddings_not_supported");
        }
        var answer = await provider.EmbedAsync(new EmbeddingProviderRequest(request, providerRequest.UpstreamModel, providerRequest.AttemptTimeout), cancellationToken)
            .ConfigureAwait(false);
        return new ProviderEmbeddings(EmbeddingVectors.Fit(answer.Vectors, request.Dimensions, deployment.Id), answer.PromptTokens)
        {
            UpstreamRateLimit = answer.UpstreamRateLimit,
        };
    }

    private static BatonException CircuitOpen(Deployment deployment) =>
        new(503, ErrorTypes.Upstream, $"Deployment '{deployment.Id}' is paused by its circuit breaker after repeated failures.", code: "circuit_open")
        {
            Provider = deployment.Provider.Name,
            RetryAfter = deployment.Resilience.Settings.BreakDuration,
        };

    private BatonException AllFailed(BatonException? last)
    {
        if (last is null)
        {
            return new BatonException(503, ErrorTypes.Upstream, $"Model '{plan.Requested.Name}' has no deployment to try.", code: "no_deployment");
        }
        var failures = Attempts.Failures;
        var listed = string.Join("; ", failures.Select((f, i) => $"{i + 1}) {f.Deployment}: {f.Message}"));
        return new BatonException(last.StatusCode, last.Type,
            $"No deployment of model '{plan.Requested.Name}' (or its fallbacks) could answer after {Attempts.Count} attempt(s). " +
            $"Last failure: {last.Message}" + (failures.Count > 1 ? $" All attempts: {listed}" : ""),
            last.Param, last.Code)
        {
            Provider = last.Provider,
            UpstreamStatus = last.UpstreamStatus,
            RetryAfter = last.RetryAfter,
            Attempts = failures,
        };
    }

    private BatonException TotalTimeout(TimeSpan limit, BatonException? last) =>
        new(504, ErrorTypes.Timeout,
            $"Model '{plan.Requested.Name}' did not answer within its total timeout of {limit.TotalSeconds:0.###} s ({Attempts.Count} attempt(s))." +
            (last is null ? "" : $" Last failure: {last.Message}"),
            code: "total_timeout");

    /// <summary>The attempt as Polly calls it: one delegate for a request's first call and its retries.</summary>
    private static class AttemptCall<TState, TCall, T>
    {
        public static readonly Func<Attempt<TState, TCall, T>, CancellationToken, ValueTask<Polly.Outcome<object>>> Instance =
            static (attempt, token) => attempt.Runner.AttemptAsync(attempt, token);
    }

    /// <summary>The finish of an attempt whose call gives the answer itself (a complete answer, embeddings).</summary>
    private static class AsIs<TState, T>
    {
        public static readonly Func<T, Candidate, TState, ValueTask<T>> Instance = static (answer, _, _) => new ValueTask<T>(answer);
    }

    /// <summary>What one deployment's retry pipeline needs to call it again: passed as Polly's state, so no closure per attempt.</summary>
    private readonly record struct Attempt<TState, TCall, T>(
        AttemptRunner Runner, Candidate Candidate, ProviderRequest ProviderRequest, RateLimitLease Lease,
        Func<Candidate, ProviderRequest, TState, CancellationToken, Task<TCall>> Call, Func<TCall, Candidate, TState, ValueTask<T>> Finish,
        TState State);

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
    }
}
