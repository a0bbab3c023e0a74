using Polly.CircuitBreaker;

namespace Baton.Resilience;

/// <summary>A deployment's health as seed 003 names it.</summary>
public enum HealthState
{
    /// <summary>Not called yet.</summary>
    Unknown,
    /// <summary>The last call succeeded.</summary>
    Healthy,
    /// <summary>One or two failures in a row.</summary>
    Degraded,
    /// <summary>Three or more failures in a row, or the circuit breaker is open.</summary>
    Unavailable,
}

/// <summary>A point-in-time view of one deployment's health, safe to show: error texts are already redacted.</summary>
public sealed record HealthSnapshot(
    HealthState State,
    string BreakerState,
    int ConsecutiveFailures,
    long Calls,
    double ErrorRate,
    double? LatencyP50Ms,
    double? LatencyP95Ms,
    DateTimeOffset? LastSuccess,
    DateTimeOffset? LastFailure,
    string? LastError);

/// <summary>
/// Tracks the outcomes of one deployment's calls: consecutive failures, the error rate over the last
/// <see cref="Window"/> calls, and the latency of recent successes. Thread-safe; cheap enough for every call.
/// </summary>
public sealed class DeploymentHealth(TimeProvider time)
{
    private const int Window = 100;
    private const int UnavailableAfter = 3;

    private readonly Lock _gate = new();
    private readonly bool[] _outcomes = new bool[Window];
    private readonly double[] _latenciesMs = new double[Window];
    private int _outcomeCount;
    private int _outcomeNext;
    private int _latencyCount;
    private int _latencyNext;
    private long _calls;
    private int _consecutiveFailures;
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _lastFailure;
    private string? _lastError;
    private double _latencyEwmaMs = double.NaN;

    /// <summary>The moving average of recent latencies (each new call weighs 30 %); NaN before the first success.</summary>
    public double LatencyEwmaMs
    {
        get
        {
            lock (_gate)
            {
                return _latencyEwmaMs;
            }
        }
    }

    /// <summary>Records a call that answered: it ends a run of failures and counts towards the latency figures.</summary>
    /// <param name="latency">How long the call took.</param>
    public void RecordSuccess(TimeSpan latency)
    {
        lock (_gate)
        {
            RecordOutcome(success: true);
            _latenciesMs[_latencyNext] = latency.TotalMilliseconds;
            _latencyNext = (_latencyNext + 1) % Window;
            _latencyCount = Math.Min(_latencyCount + 1, Window);
            _latencyEwmaMs = double.IsNaN(_latencyEwmaMs) ? latency.TotalMilliseconds : (0.3 * latency.TotalMilliseconds) + (0.7 * _latencyEwmaMs);
            _consecutiveFailures = 0;
            _lastSuccess = time.GetUtcNow();
        }
    }

    /// <param name="error">A message with secrets already removed.</param>
    public void RecordFailure(string error)
    {
        lock (_gate)
        {
            RecordOutcome(success: false);
            _consecutiveFailures++;
            _lastFailure = time.GetUtcNow();
            _lastError = error;
        }
    }

    /// <summary>The deployment's health now: state, error rate over the last 100 calls, p50/p95 latency of recent successes.</summary>
    /// <param name="breaker">The breaker's state, which makes the deployment unavailable while it is open.</param>
    public HealthSnapshot Snapshot(CircuitState breaker)
    {
        lock (_gate)
        {
            var failures = 0;
            for (var i = 0; i < _outcomeCount; i++)
            {
                failures += _outcomes[i] ? 0 : 1;
            }
            var sorted = _latenciesMs.AsSpan(0, _latencyCount).ToArray();
            Array.Sort(sorted);
            var state = _calls == 0 && breaker == CircuitState.Closed ? HealthState.Unknown
                : breaker is CircuitState.Open or CircuitState.Isolated || _consecutiveFailures >= UnavailableAfter ? HealthState.Unavailable
                : _consecutiveFailures > 0 || breaker == CircuitState.HalfOpen ? HealthState.Degraded
                : HealthState.Healthy;
            return new HealthSnapshot(
                state,
                BreakerName(breaker),
                _consecutiveFailures,
                _calls,
                _outcomeCount == 0 ? 0 : (double)failures / _outcomeCount,
                Percentile(sorted, 0.50),
                Percentile(sorted, 0.95),
                _lastSuccess,
                _lastFailure,
                _lastError);
        }
    }

    private void RecordOutcome(bool success)
    {
        _calls++;
        _outcomes[_outcomeNext] = success;
        _outcomeNext = (_outcomeNext + 1) % Window;
        _outcomeCount = Math.Min(_outcomeCount + 1, Window);
    }

    private static double? Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];

    private static string BreakerName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        _ => "isolated",
    };
}
