namespace Baton.Providers;

/// <summary>
/// A token that is cancelled by the caller or when its timeout has passed on the injected
/// clock, and can tell which of the two happened.
/// </summary>
/// <remarks>
/// One cancellation source per scope, linked to the caller's token, rather than a timed source plus a linked
/// one: on the system clock the source's own timer fires it; on another clock (a test's) a timer of that clock does.
/// </remarks>
public sealed class TimeoutScope : IDisposable
{
    // Null for a scope without a timeout: the caller's token is all it needs, so it costs no source of its own.
    private readonly CancellationTokenSource? _source;
    private readonly ITimer? _timer;
    private readonly CancellationToken _caller;

    /// <param name="timeout">How long the scope lasts; <see cref="Timeout.InfiniteTimeSpan"/> for ever.</param>
    /// <param name="time">The clock the timeout runs on.</param>
    /// <param name="caller">The caller's cancellation, which also cancels the scope.</param>
    public TimeoutScope(TimeSpan timeout, TimeProvider time, CancellationToken caller)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A timeout is positive, zero or infinite.");
        }
        Duration = timeout;
        _caller = caller;
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }
        _source = caller.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(caller) : new CancellationTokenSource();
        if (timeout == TimeSpan.Zero)
        {
            _source.Cancel();
        }
        else if (time == TimeProvider.System)
        {
            _source.CancelAfter(timeout);
        }
        else
        {
            _timer = CreateTimer(time, _source, timeout);
        }
    }

    public TimeSpan Duration { get; }

    public CancellationToken Token => _source?.Token ?? _caller;

    public bool TimedOut => _source is not null && _source.IsCancellationRequested && !_caller.IsCancellationRequested;

    public void Dispose()
    {
        _timer?.Dispose();
        _source?.Dispose();
    }

    /// <summary>A timer of <paramref name="time"/> that cancels <paramref name="source"/> once, without the caller's execution context.</summary>
    private static ITimer CreateTimer(TimeProvider time, CancellationTokenSource source, TimeSpan timeout)
    {
        // The timer's callback needs nothing of the caller's context (its activity, its async locals).
        var suppressed = !ExecutionContext.IsFlowSuppressed();
        if (suppressed)
        {
            ExecutionContext.SuppressFlow();
        }
        try
        {
            return time.CreateTimer(static state => Cancel((CancellationTokenSource)state!), source, timeout, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            if (suppressed)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }

    private static void Cancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The scope ended as its timer fired: there is no one left to tell.
        }
    }
}
