using System.Runtime.CompilerServices;
using Baton.Errors;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Baton.Resilience;

/// <summary>
/// One deployment's retry policy, circuit breaker and health, shared by every model that routes to it.
/// Built on Polly: retries with exponential backoff and jitter, honouring the upstream's <c>Retry-After</c>
/// up to a cap; a breaker that opens on a failure ratio and lets a probe through after its break.
/// </summary>
public sealed class DeploymentResilience
{
    // Two pipelines rather than one (retry around breaker): a call goes through the breaker alone, and only a failed one
    // is handed to the retry strategy (see ExecuteAsync), so a call that succeeds first time costs no retry state.
    private readonly ResiliencePipeline _retry;
    private readonly ResiliencePipeline _breakerPipeline;
    private readonly CircuitBreakerStateProvider _breaker = new();
    private readonly TimeProvider _time;
    private readonly string _deployment;
    private readonly IBreakerStateStore _shared;
    private long _openUntilTicks;

    /// <summary>A deployment's resilience whose breaker is its own (one instance).</summary>
    public DeploymentResilience(ResilienceSettings settings, TimeProvider time)
        : this(settings, time, "", new InMemoryBreakerStateStore(time))
    {
    }

    /// <summary>A deployment's resilience whose breaker decisions are shared through <paramref name="shared"/> with other instances.</summary>
    public DeploymentResilience(ResilienceSettings settings, TimeProvider time, string deployment, IBreakerStateStore shared)
    {
        Settings = settings;
        _time = time;
        _deployment = deployment;
        _shared = shared;
        Health = new DeploymentHealth(time);
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // Polly wants at least one retry; zero retries is expressed by handling nothing.
                MaxRetryAttempts = Math.Max(1, settings.MaxRetries),
                ShouldHandle = args => ValueTask.FromResult(settings.MaxRetries > 0 && args.Outcome.Exception is BatonException error && ShouldRetry(error)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.BaseDelay,
                MaxDelay = settings.MaxDelay,
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is BatonException { RetryAfter: { } wait } ? wait : (TimeSpan?)null),
            })
            .Build();
        _breakerPipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = settings.FailureRatio,
                MinimumThroughput = Math.Max(2, settings.MinimumThroughput),
                // Polly refuses windows shorter than half a second.
                SamplingDuration = Max(settings.SamplingDuration, HalfSecond),
                BreakDuration = Max(settings.BreakDuration, HalfSecond),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is BatonException error && FailureClassifier.CountsAgainstHealth(error)),
                StateProvider = _breaker,
                OnOpened = args =>
                {
                    var until = time.GetUtcNow() + args.BreakDuration;
                    Interlocked.Exchange(ref _openUntilTicks, until.UtcTicks);
                    _shared.ReportOpened(_deployment, until);
                    BreakerChanged?.Invoke(CircuitState.Open);
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    BreakerChanged?.Invoke(CircuitState.HalfOpen);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    _shared.ReportClosed(_deployment);
                    BreakerChanged?.Invoke(CircuitState.Closed);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>The retry, timeout and breaker settings in force for this deployment.</summary>
    public ResilienceSettings Settings { get; }

    /// <summary>Raised when the breaker opens, half-opens (lets a probe through) or closes again, for logs and metrics.</summary>
    public event Action<CircuitState>? BreakerChanged;

    /// <summary>What the deployment's calls have shown: failures in a row, error rate, latency.</summary>
    public DeploymentHealth Health { get; }

    /// <summary>The breaker's state: this instance's, or open when another instance has it open.</summary>
    public CircuitState BreakerState => OpenElsewhere() is not null && _breaker.CircuitState == CircuitState.Closed ? CircuitState.Open : _breaker.CircuitState;

    /// <summary>
    /// True while the breaker is open and its break is not over, here or on another instance: calling would be
    /// refused without reaching the upstream. (Polly moves an open breaker to half-open only when the next call
    /// arrives; past the break, that call is the probe, so the deployment counts as callable.)
    /// </summary>
    public bool IsOpen => _breaker.CircuitState == CircuitState.Isolated ||
        (_breaker.CircuitState == CircuitState.Open && _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _openUntilTicks)) ||
        OpenElsewhere() is not null;

    /// <summary>The deployment's health, with the breaker as <see cref="BreakerState"/> reports it.</summary>
    public HealthSnapshot Snapshot() => Health.Snapshot(BreakerState);

    /// <summary>
    /// Runs <paramref name="attempt"/> with retries behind the breaker, recording each attempt's outcome in the
    /// deployment's health. Throws the last attempt's <see cref="BatonException"/>, or
    /// <see cref="BrokenCircuitException"/> when the breaker refused the call. The attempt gets
    /// <paramref name="state"/> rather than capturing it, so that a static lambda costs no allocation per call.
    /// </summary>
    public ValueTask<T> ExecuteAsync<TState, T>(Func<TState, CancellationToken, ValueTask<T>> attempt, TState state, CancellationToken cancellationToken) =>
        ExecuteMeasuredAsync<(DeploymentResilience Self, Func<TState, CancellationToken, ValueTask<T>> Attempt, TState State), T>(
            static (call, token) => call.Self.MeasureAsync(call.Attempt, call.State, token), (Self: this, Attempt: attempt, State: state), cancellationToken);

    /// <summary>
    /// As <see cref="ExecuteAsync"/>, for a caller whose attempt records its own outcome with <see cref="CallStarted"/>,
    /// <see cref="Succeeded"/> and <see cref="Failed"/>. The engine's attempt runner takes the same steps
    /// (<see cref="EnterMeasured"/>, <see cref="CallMeasuredAsync"/>, <see cref="RetryMeasuredAsync"/>,
    /// <see cref="ExitMeasured"/>) in its own async method, which spares each request a state machine.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<T> ExecuteMeasuredAsync<TState, T>(Func<TState, CancellationToken, ValueTask<Outcome<object>>> attempt, TState state,
        CancellationToken cancellationToken)
    {
        var context = EnterMeasured(cancellationToken);
        Outcome<object> outcome;
        try
        {
            if (ClosedHere)
            {
                outcome = await attempt(state, cancellationToken).ConfigureAwait(false);
                await ReportMeasuredAsync(context, outcome).ConfigureAwait(false);
            }
            else
            {
                outcome = await CallMeasuredAsync(context, attempt, state).ConfigureAwait(false);
            }
            if (outcome.Exception is not null)
            {
                outcome = await RetryMeasuredAsync(context, attempt, state, outcome).ConfigureAwait(false);
            }
        }
        finally
        {
            ExitMeasured(context);
        }
        outcome.ThrowIfException();
        return (T)outcome.Result!;
    }

    /// <summary>
    /// Before a measured call: refuses it (<see cref="BrokenCircuitException"/>) while another instance has the breaker
    /// open, and takes a pooled Polly context, to be given back with <see cref="ExitMeasured"/>.
    /// </summary>
    internal ResilienceContext EnterMeasured(CancellationToken cancellationToken)
    {
        if (OpenElsewhere() is { } wait)
        {
            // Another instance tripped the breaker: this one does not spend calls finding out for itself.
            throw new BrokenCircuitException("The circuit breaker is open on another gateway instance.", wait);
        }
        return ResilienceContextPool.Shared.Get(cancellationToken);
    }

    /// <summary>After a measured call and its retries: gives the context taken by <see cref="EnterMeasured"/> back to the pool.</summary>
    internal static void ExitMeasured(ResilienceContext context) => ResilienceContextPool.Shared.Return(context);

    /// <summary>
    /// A measured call's first try, through the breaker alone (which may refuse it, as a <see cref="BrokenCircuitException"/>
    /// outcome). Polly's outcome-based entry point: failures travel as outcomes rather than through another layer of
    /// async wrappers, and are thrown once, by the caller, as the last attempt's. The outcome is typed object, the
    /// result type of the pipeline's strategies: Polly then calls each strategy directly, where any other type would
    /// cost two more async adapters per strategy, converting the outcome on the way in and out.
    /// </summary>
    internal ValueTask<Outcome<object>> CallMeasuredAsync<TState>(ResilienceContext context, Func<TState, CancellationToken, ValueTask<Outcome<object>>> attempt,
        TState state) =>
        CallAsync(context, (Self: this, Attempt: attempt, State: state));

    /// <summary>
    /// True while this instance's breaker is closed: a measured call's first try may then run at once, and its outcome
    /// be told to the breaker afterwards (<see cref="ReportMeasuredAsync"/>), so that the try is awaited in its caller's
    /// state machine rather than also in Polly's. A closed breaker lets every call through without looking at it, so
    /// asking first changes nothing; a breaker in any other state is asked before the call (<see cref="CallMeasuredAsync"/>).
    /// </summary>
    internal bool ClosedHere => _breaker.CircuitState == CircuitState.Closed;

    /// <summary>
    /// Tells the breaker the outcome of a first try that ran while it was closed (<see cref="ClosedHere"/>), through the
    /// breaker itself: Polly's own accounting, events and transitions, with a callback that returns the known outcome, so
    /// that the breaker completes at once. If the breaker opened while the try ran, it refuses the outcome and does not
    /// count it, where Polly would have counted it without acting on it; either way the try's own outcome stands.
    /// </summary>
    internal ValueTask ReportMeasuredAsync(ResilienceContext context, Outcome<object> outcome)
    {
        var told = _breakerPipeline.ExecuteOutcomeAsync<object, Outcome<object>>(static (_, outcome) => ValueTask.FromResult(outcome), context, outcome);
        return told.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitReportAsync(told);
    }

    /// <summary>A report that waited (the breaker ran an event handler as it opened or closed).</summary>
    private static async ValueTask AwaitReportAsync(ValueTask<Outcome<object>> told) => await told.ConfigureAwait(false);

    /// <summary>
    /// After a first try that failed: the retries the deployment allows, each through the breaker; the failure itself
    /// when it allows none. Polly's retry strategy costs an async state machine for every call it wraps, so it is
    /// entered only now, and given the failure as the outcome of its first attempt (without calling again). Its
    /// decisions, delays (backoff, jitter, Retry-After) and events are the ones it would have made wrapping the first call too.
    /// </summary>
    internal ValueTask<Outcome<object>> RetryMeasuredAsync<TState>(ResilienceContext context, Func<TState, CancellationToken, ValueTask<Outcome<object>>> attempt,
        TState state, Outcome<object> failed)
    {
        if (Settings.MaxRetries <= 0)
        {
            return ValueTask.FromResult(failed);
        }
        var retry = new Retry<TState>((Self: this, Attempt: attempt, State: state), failed);
        return _retry.ExecuteOutcomeAsync<object, Retry<TState>>(static (context, retry) => retry.NextAsync(context), context, retry);
    }

    /// <summary>One call through the breaker (which may refuse it, as a <see cref="BrokenCircuitException"/> outcome).</summary>
    private ValueTask<Outcome<object>> CallAsync<TState>(ResilienceContext context,
        (DeploymentResilience Self, Func<TState, CancellationToken, ValueTask<Outcome<object>>> Attempt, TState State) call) =>
        _breakerPipeline.ExecuteOutcomeAsync<object, (DeploymentResilience Self, Func<TState, CancellationToken, ValueTask<Outcome<object>>> Attempt, TState State)>(
            static (context, call) => call.Attempt(call.State, context.CancellationToken), context, call);

    /// <summary>When a call measured by its caller starts, for <see cref="Succeeded"/>.</summary>
    internal long CallStarted() => _time.GetTimestamp();

    /// <summary>A call that answered: its latency recorded in the health, its result as the breaker's outcome.</summary>
    internal Outcome<object> Succeeded(object result, long started)
    {
        Health.RecordSuccess(_time.GetElapsedTime(started));
        return Outcome.FromResult(result);
    }

    /// <summary>A call that failed: a Baton failure recorded in the health, the error as the breaker's outcome.</summary>
    internal Outcome<object> Failed(Exception error)
    {
        if (error is BatonException baton)
        {
            Health.RecordFailure(baton.Message);
        }
        return Outcome.FromException<object>(error);
    }

    /// <summary>
    /// The retry strategy's callback once a first call has failed: its first attempt is that call's outcome, handed
    /// over as it is; every later attempt is a new call through the breaker.
    /// </summary>
    private sealed class Retry<TState>(
        (DeploymentResilience Self, Func<TState, CancellationToken, ValueTask<Outcome<object>>> Attempt, TState State) call, Outcome<object> first)
    {
        private bool _firstTaken;

        public ValueTask<Outcome<object>> NextAsync(ResilienceContext context)
        {
            if (!_firstTaken)
            {
                _firstTaken = true;
                return ValueTask.FromResult(first);
            }
            return call.Self.CallAsync(context, call);
        }
    }

    /// <summary>One call, its outcome and latency recorded in the deployment's health.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<object>> MeasureAsync<TState, T>(Func<TState, CancellationToken, ValueTask<T>> attempt, TState state, CancellationToken token)
    {
        var started = CallStarted();
        try
        {
            return Succeeded((await attempt(state, token).ConfigureAwait(false))!, started);
        }
        catch (Exception error)
        {
            return Failed(error);
        }
    }

    /// <summary>Records a failure seen after the call had succeeded, e.g. a stream cut halfway.</summary>
    public void RecordLateFailure(BatonException error) => Health.RecordFailure(error.Message);

    /// <summary>How long another instance keeps the breaker open; null when none does.</summary>
    private TimeSpan? OpenElsewhere()
    {
        var until = _shared.OpenUntil(_deployment);
        if (until is null)
        {
            return null;
        }
        var left = until.Value - _time.GetUtcNow();
        return left > TimeSpan.Zero ? left : null;
    }

    private static readonly TimeSpan HalfSecond = TimeSpan.FromMilliseconds(500);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private bool ShouldRetry(BatonException error) =>
        FailureClassifier.Classify(error) == FailureAction.Retry && !(error.RetryAfter > Settings.MaxRetryAfter);
}
