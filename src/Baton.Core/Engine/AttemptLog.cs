using Baton.Errors;
using Baton.Telemetry;

namespace Baton.Engine;

/// <summary>Counts upstream calls across retries, deployments and fallbacks of one request, and keeps each failure.</summary>
public sealed class AttemptLog
{
    /// <summary>The request's span and metrics, for the attempts' spans and events; null without telemetry.</summary>
    internal RequestTelemetry? Telemetry { get; init; }

    // Most requests succeed at the first attempt: the list exists only once one has failed.
    private List<AttemptFailure>? _failures;
    private int _count;

    /// <summary>The upstream calls made so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The failed attempts so far, in order (a copy).</summary>
    public IReadOnlyList<AttemptFailure> Failures
    {
        get
        {
            if (Volatile.Read(ref _failures) is not { } failures)
            {
                return [];
            }
            lock (failures)
            {
                return [.. failures];
            }
        }
    }

    /// <summary>True once an attempt has failed.</summary>
    internal bool HasFailures => Volatile.Read(ref _failures) is not null;

    /// <summary>True when an attempt on a deployment other than <paramref name="deploymentId"/> failed.</summary>
    internal bool FailedOnOtherThan(string deploymentId)
    {
        if (Volatile.Read(ref _failures) is not { } failures)
        {
            return false;
        }
        lock (failures)
        {
            foreach (var failure in failures)
            {
                if (!string.Equals(failure.Deployment, deploymentId, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Counts one upstream call.</summary>
    public void Increment() => Interlocked.Increment(ref _count);

    /// <summary>Keeps the failure of an attempt on <paramref name="deployment"/>.</summary>
    public void Failed(Routing.Deployment deployment, BatonException error)
    {
        var failures = LazyInitializer.EnsureInitialized(ref _failures);
        lock (failures)
        {
            failures.Add(new AttemptFailure(deployment.Id, error.UpstreamStatus, error.Code, error.Message));
        }
    }
}
