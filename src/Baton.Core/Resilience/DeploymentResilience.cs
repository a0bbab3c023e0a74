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
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _breaker = new();
    private readonly TimeProvider _time;
    private long _openUntilTicks;

    public DeploymentResilience(ResilienceSettings settings, TimeProvider time)
    {
        Settings = settings;
        _time = time;
        Health = new DeploymentHealth(time);
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
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
                    Interlocked.Exchange(ref _openUntilTicks, (time.GetUtcNow() + args.BreakDuration).UtcTicks);
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
                    BreakerChanged?.Invoke(CircuitState.Closed);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public ResilienceSettings Settings { get; }

    /// <summary>Raised when the breaker opens, half-opens (lets a probe through) or closes again, for logs and metrics.</summary>
    public event Action<CircuitState>? BreakerChanged;

    public DeploymentHealth Health { get; }

    public CircuitState BreakerState => _breaker.CircuitState;

    /// <summary>
    /// True while the breaker is open and its break is not over: calling would be refused without reaching the
    /// upstream. (Polly moves an open breaker to half-open only when the next call arrives; past the break,
    /// that call is the probe, so the deployment counts as callable.)
    /// </summary>
    public bool IsOpen => _breaker.CircuitState == CircuitState.Isolated ||
        (_breaker.CircuitState == CircuitState.Open && _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _openUntilTicks));

    public HealthSnapshot Snapshot() => Health.Snapshot(_breaker.CircuitState);

    /// <summary>
    /// Runs <paramref name="attempt"/> with retries behind the breaker, recording each attempt's outcome.
    /// Throws the last attempt's <see cref="BatonException"/>, or <see cref="BrokenCircuitException"/> when
    /// the breaker refused the call.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(
        Func<CancellationToken, Task<T>> attempt, Action onAttempt, Action<BatonException> onFailure, CancellationToken cancellationToken)
    {
        return await _pipeline.ExecuteAsync(async token =>
        {
            onAttempt();
            var started = _time.GetTimestamp();
            try
            {
                var result = await attempt(token).ConfigureAwait(false);
                Health.RecordSuccess(_time.GetElapsedTime(started));
                return result;
            }
            catch (BatonException error)
            {
                Health.RecordFailure(error.Message);
                onFailure(error);
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a failure seen after the call had succeeded, e.g. a stream cut halfway.</summary>
    public void RecordLateFailure(BatonException error) => Health.RecordFailure(error.Message);

    private static readonly TimeSpan HalfSecond = TimeSpan.FromMilliseconds(500);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private bool ShouldRetry(BatonException error) =>
        FailureClassifier.Classify(error) == FailureAction.Retry && !(error.RetryAfter > Settings.MaxRetryAfter);
}
