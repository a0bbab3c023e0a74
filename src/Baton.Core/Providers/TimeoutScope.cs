namespace Baton.Providers;

/// <summary>
/// A token that is cancelled by the caller or when its timeout has passed on the injected
/// clock, and can tell which of the two happened.
/// </summary>
/// <remarks>
/// One cancellation source per scope, linked to the caller's token, rather than a timed source plus a linked
/// one: on the system clock the source's own timer fires it; on another clock (a test's) a timer of that clock does.
/// A scope taken from a <see cref="TimeoutScopePool"/> goes back to it when disposed, with its source, the source's
/// timer and its registrations, unless it was cancelled (see <see cref="TimeoutScopePool"/> for when that is safe).
/// </remarks>
public sealed class TimeoutScope : IDisposable
{
    // Null for a scope without a timeout: the caller's token is all it needs, so it costs no source of its own.
    private CancellationTokenSource? _source;
    private readonly ITimer? _timer;
    private CancellationToken _caller;
    // A pooled scope's source is not linked (a linked source cannot be reset): the caller's token cancels it through this.
    private CancellationTokenRegistration _link;
    private readonly TimeoutScopePool? _pool;
    private int _disposed;

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

    /// <summary>An empty scope of <paramref name="pool"/>, started by <see cref="Begin"/> each time it is taken.</summary>
    internal TimeoutScope(TimeoutScopePool pool) => _pool = pool;

    /// <summary>Starts a pooled scope: a timeout on the system clock, cancelled by the caller too.</summary>
    internal void Begin(TimeSpan timeout, CancellationToken caller)
    {
        Duration = timeout;
        _caller = caller;
        _disposed = 0;
        _source ??= new CancellationTokenSource();
        if (caller.CanBeCanceled)
        {
            // Runs at once when the caller is already cancelled, as a linked source would.
            _link = caller.UnsafeRegister(static source => Cancel((CancellationTokenSource)source!), _source);
        }
        _source.CancelAfter(timeout);
    }

    public TimeSpan Duration { get; private set; }

    public CancellationToken Token => _source?.Token ?? _caller;

    public bool TimedOut => _source is not null && _source.IsCancellationRequested && !_caller.IsCancellationRequested;

    public void Dispose()
    {
        if (_pool is null)
        {
            _timer?.Dispose();
            _source?.Dispose();
            return;
        }
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        // Disposing the link waits for a caller's cancellation already running, so none can reach the source after the
        // reset below. A reset stops the timer and drops the registrations; it refuses a source that was cancelled
        // (timed out, or by the caller), which is never reused: a token once cancelled stays cancelled.
        _link.Dispose();
        _link = default;
        _caller = default;
        if (!_source!.TryReset())
        {
            _source.Dispose();
            _source = null;
        }
        _pool.Return(this);
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
