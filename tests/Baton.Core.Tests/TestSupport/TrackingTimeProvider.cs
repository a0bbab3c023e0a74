using System.Collections.Frozen;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.TestSupport;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that moves itself while the code it drives is parked on the clock, and only then.
/// Parked is decided from what the code really does, never from a real-time pause:
/// <list type="bullet">
/// <item>no thread runs the driven code: the call starts in an execution context marked by an <see cref="AsyncLocal{T}"/>,
/// whose change notifications say each time a thread enters or leaves that context (a continuation, a pool work item,
/// a callback the call registered);</item>
/// <item>someone waits for the clock: a live timer of a <c>Task.Delay</c> (recognised by the type of its state, learned by
/// calling <c>Task.Delay</c> on a probe clock, so a timeout's timer is never taken for one), or a declared
/// <see cref="HangAsync"/> (an endless wait that only a timeout or the caller can end).</item>
/// </list>
/// Every change of either (a timer created, changed, fired or disposed; a hang begun or over; the last running thread
/// leaving the driven code) wakes the driver, which then looks again: it waits on events, not on a pause.
/// </summary>
/// <remarks>
/// Work queued but not yet started is in no thread: a caller woken by another's signal (a
/// <see cref="TaskCompletionSource"/> made with <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>, a
/// delay cancelled by its token) waits in the pool's queue, while its delay timer may still be live. So before each move
/// the driver sends one work item through the pool's global queue and looks again once it has run: work queued before
/// it is taken first (the global queue is first in, first out, and a thread empties its own queue before it), and once
/// started counts as running. Left uncovered: a thread preempted between taking such an item and entering its context,
/// or an item stolen late from a busy thread's own queue: the one way left for a woken caller to come late.
/// </remarks>
public sealed class TrackingTimeProvider : FakeTimeProvider
{
    /// <summary>The types of state <c>Task.Delay</c> gives the timers it makes on a <see cref="TimeProvider"/>.</summary>
    private static readonly FrozenSet<Type> DelayStates = DelayStateProbe.Learn();

    /// <summary>At most this many moves per drive: a call that never ends fails instead of moving the clock for ever.</summary>
    private const int MaxMoves = 100_000;

    private readonly Lock _lock = new();
    private readonly HashSet<TrackedTimer> _live = [];
    private readonly AsyncLocal<DrivenCall?> _driven;
    private int _running;
    private int _hangs;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TrackingTimeProvider(DateTimeOffset start)
        : base(start)
    {
        _driven = new AsyncLocal<DrivenCall?>(OnDrivenContextChanged);
    }

    /// <summary>Callers waiting for the clock: live <c>Task.Delay</c> timers and hangs.</summary>
    public int ParkedDelays
    {
        get
        {
            lock (_lock)
            {
                return _live.Count(t => t.IsDelay) + _hangs;
            }
        }
    }

    /// <summary>Threads running the driven code right now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>When the earliest live timer (a delay's or a timeout's) is due, if any is.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_lock)
            {
                return _live.Count == 0 ? null : _live.Min(t => t.Due);
            }
        }
    }

    /// <summary>Completes at the next creation, change, firing or disposal of a timer, hang, or when the driven code stops running.</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="cancellationToken"/> is cancelled, as a parked wait: for the code under test that
    /// hangs on purpose (a silent upstream), which a timeout on this clock or its caller ends.
    /// </summary>
    public Task HangAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }
        // Not an endless Task.Delay: a delay ended by its token wakes its caller through the thread pool, later. Here
        // the hang is over, and its caller goes on, inside the cancellation (a timeout's timer firing as the clock moves).
        var hang = new TaskCompletionSource();
        UpdateHangs(+1);
        var registration = cancellationToken.Register(() =>
        {
            UpdateHangs(-1);
            hang.TrySetCanceled(cancellationToken);
        });
        return WaitAsync(hang.Task, registration);

        static async Task WaitAsync(Task hang, CancellationTokenRegistration registration)
        {
            await using (registration.ConfigureAwait(false))
            {
                await hang.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Hangs on <paramref name="time"/>: a declared hang when it is a <see cref="TrackingTimeProvider"/>, an endless delay otherwise.</summary>
    public static Task HangAsync(TimeProvider time, CancellationToken cancellationToken) =>
        time is TrackingTimeProvider tracking ? tracking.HangAsync(cancellationToken) : Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);

    /// <summary>
    /// Starts <paramref name="call"/> and moves the clock until it is over: only while it is parked (no thread runs it,
    /// and by default someone waits for the clock; <paramref name="parked"/> narrows that for a test that knows more),
    /// by at most <paramref name="step"/>, and never past the next timer's due time, so what a woken caller does
    /// happens at the time it was due. Returns the call's result.
    /// </summary>
    public async Task<T> DriveAsync<T>(Func<Task<T>> call, TimeSpan step, Func<bool>? parked = null)
    {
        var task = StartDriven(call);
        await MoveUntilOverAsync(task, step, parked ?? (() => ParkedDelays > 0));
        return await task;
    }

    /// <inheritdoc cref="DriveAsync{T}(Func{Task{T}}, TimeSpan, Func{bool})"/>
    public async Task DriveAsync(Func<Task> call, TimeSpan step, Func<bool>? parked = null)
    {
        var task = StartDriven(call);
        await MoveUntilOverAsync(task, step, parked ?? (() => ParkedDelays > 0));
        await task;
    }

    /// <summary>Runs the start of <paramref name="call"/> in the marked context, which its continuations inherit.</summary>
    private TTask StartDriven<TTask>(Func<TTask> call)
        where TTask : Task
    {
        var outer = _driven.Value;
        _driven.Value = outer ?? new DrivenCall();
        try
        {
            return call();
        }
        finally
        {
            _driven.Value = outer;
        }
    }

    private async Task MoveUntilOverAsync(Task task, TimeSpan step, Func<bool> parked)
    {
        if (step <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The clock moves by a positive step.");
        }
        if (_driven.Value is not null)
        {
            throw new InvalidOperationException("A driven call cannot drive the clock itself: it would count as running for ever.");
        }
        var moves = 0;
        while (!task.IsCompleted)
        {
            // Taken before looking, so a change made just after the look still wakes the driver.
            var changed = Changed;
            if (Running == 0 && parked())
            {
                // Work already queued (a caller woken by another's signal, whose delay is still live) starts before the
                // barrier's work item and then counts as running: only a look after the barrier decides a move.
                await ThroughThePoolAsync();
                if (task.IsCompleted || Running != 0 || !parked())
                {
                    continue;
                }
                if (++moves > MaxMoves)
                {
                    throw new InvalidOperationException($"The clock moved {MaxMoves} times and the call is not over: it waits for something else than the clock.");
                }
                Advance(NextMove(step));
                continue;
            }
            await Task.WhenAny(task, changed);
        }
    }

    /// <summary>One work item through the thread pool's global (first in, first out) queue: a barrier, not a pause.</summary>
    private static Task ThroughThePoolAsync() =>
        Task.Factory.StartNew(static () => { }, CancellationToken.None, TaskCreationOptions.PreferFairness, TaskScheduler.Default);

    private TimeSpan NextMove(TimeSpan step)
    {
        var now = GetUtcNow();
        if (NextDue is { } due && due - now < step)
        {
            return due > now ? due - now : TimeSpan.Zero;
        }
        return step;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var tracked = new TrackedTimer(this, state is not null && DelayStates.Contains(state.GetType()));
        // Scheduled before the fake clock has the timer, so that a timer fired at once (or by a concurrent move)
        // is never registered after its firing and left live for ever.
        tracked.Schedule(dueTime, period);
        tracked.Inner = base.CreateTimer(s =>
        {
            tracked.Fired();
            callback(s);
        }, state, dueTime, period);
        return tracked;
    }

    /// <summary>Counts threads in the driven code: the notification comes on every thread that enters or leaves its context.</summary>
    private void OnDrivenContextChanged(AsyncLocalValueChangedArgs<DrivenCall?> change)
    {
        var inside = change.CurrentValue is not null;
        if (inside == (change.PreviousValue is not null))
        {
            return;
        }
        if (inside)
        {
            Interlocked.Increment(ref _running);
        }
        else if (Interlocked.Decrement(ref _running) == 0)
        {
            Signal();
        }
    }

    private void UpdateHangs(int delta)
    {
        lock (_lock)
        {
            _hangs += delta;
        }
        Signal();
    }

    /// <summary>Makes <paramref name="timer"/> live until <paramref name="due"/>, or not live (null).</summary>
    private void Update(TrackedTimer timer, DateTimeOffset? due)
    {
        lock (_lock)
        {
            if (due is { } when)
            {
                timer.Due = when;
                _live.Add(timer);
            }
            else
            {
                _live.Remove(timer);
            }
        }
        Signal();
    }

    private void Signal()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>The mark of a driven call's execution context.</summary>
    private sealed class DrivenCall;

    /// <summary>Learns which state types <c>Task.Delay</c> hands to a clock's timers, with and without a cancellation token.</summary>
    private sealed class DelayStateProbe : TimeProvider
    {
        private readonly HashSet<Type> _states = [];

        public static FrozenSet<Type> Learn()
        {
            var probe = new DelayStateProbe();
            using var stop = new CancellationTokenSource();
            var plain = Task.Delay(TimeSpan.FromDays(1), probe);
            var cancellable = Task.Delay(TimeSpan.FromDays(1), probe, stop.Token);
            stop.Cancel();
            if (probe._states.Count == 0 || plain.IsCompleted || !cancellable.IsCanceled)
            {
                throw new InvalidOperationException("Task.Delay made no timer on the probe clock.");
            }
            return probe._states.ToFrozenSet();
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _states.Add(state!.GetType());
            return new NeverFires();
        }

        private sealed class NeverFires : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    private sealed class TrackedTimer(TrackingTimeProvider owner, bool isDelay) : ITimer
    {
        private readonly Lock _gate = new();
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public ITimer Inner { get; set; } = null!;

        public bool IsDelay { get; } = isDelay;

        /// <summary>When it fires next, while it is live (set under the owner's lock).</summary>
        public DateTimeOffset Due { get; set; }

        public void Schedule(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                _period = period;
                // Never due, or fired at once inside the fake clock's CreateTimer or Change: not live.
                var never = dueTime == Timeout.InfiniteTimeSpan || (dueTime == TimeSpan.Zero && (period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero));
                owner.Update(this, never || _disposed ? null : owner.GetUtcNow() + dueTime);
            }
        }

        public void Fired()
        {
            lock (_gate)
            {
                var once = _period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero;
                owner.Update(this, once || _disposed ? null : owner.GetUtcNow() + _period);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Schedule(dueTime, period);
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                owner.Update(this, null);
            }
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
