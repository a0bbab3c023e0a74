using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.TestSupport;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that knows its live timers: when each is due, and which are the timers of a
/// <c>Task.Delay</c> (a caller parked until the clock moves) rather than of a timeout. A test then moves the clock
/// when the code under test is parked, never after a guessed real-time pause, and never past a timer's due time.
/// </summary>
public sealed class TrackingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _lock = new();
    private readonly HashSet<TrackedTimer> _live = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Live <c>Task.Delay</c> timers: callers waiting for the clock (an infinite delay waits for a timeout).</summary>
    public int ParkedDelays
    {
        get
        {
            lock (_lock)
            {
                return _live.Count(t => t.IsDelay);
            }
        }
    }

    /// <summary>Live <c>Task.Delay</c> timers due within <paramref name="horizon"/> from now.</summary>
    public int DelaysDueWithin(TimeSpan horizon)
    {
        var limit = GetUtcNow() + horizon;
        lock (_lock)
        {
            return _live.Count(t => t.IsDelay && t.Due is { } due && due <= limit);
        }
    }

    /// <summary>When the earliest live timer is due, if any is.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_lock)
            {
                return _live.Where(t => t.Due is not null).Select(t => t.Due).Min();
            }
        }
    }

    /// <summary>Completes at the next creation, change, firing or disposal of a timer.</summary>
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
    /// Moves the clock until <paramref name="task"/> is over: only while the code under test is parked on the clock
    /// (by default: someone waits in a <c>Task.Delay</c>; <paramref name="parked"/> says it exactly for several
    /// concurrent callers), by at most <paramref name="step"/>, and never past the next timer's due time, so what a
    /// woken caller does happens at the time it was due.
    /// </summary>
    public async Task DriveAsync(Task task, TimeSpan step, Func<bool>? parked = null)
    {
        // A test's own condition is exact, so the grace is only a safety net; the default's covers parks it cannot see
        // (a call waiting on something other than a delay).
        var grace = TimeSpan.FromMilliseconds(parked is null ? 250 : 60_000);
        parked ??= () => ParkedDelays > 0;
        for (var i = 0; i < 100_000 && !task.IsCompleted; i++)
        {
            await WhenParkedAsync(task, parked, grace);
            if (task.IsCompleted)
            {
                break;
            }
            var move = step;
            if (NextDue is { } due && due - GetUtcNow() < move)
            {
                move = due - GetUtcNow();
            }
            Advance(move > TimeSpan.Zero ? move : TimeSpan.Zero);
        }
    }

    /// <summary>Waits, on timer events rather than a pause, until the task is over or parked (or the grace is over).</summary>
    private async Task WhenParkedAsync(Task task, Func<bool> parked, TimeSpan graceTime)
    {
        var grace = Task.Delay(graceTime);
        while (!task.IsCompleted && !parked() && !grace.IsCompleted)
        {
            // Polled as well as signalled: a caller's own progress (a provider call) moves no timer.
            await Task.WhenAny(task, Changed, grace, Task.Delay(1));
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Task.Delay's timer carries its pending task as state; a CancellationTokenSource's carries the source.
        var tracked = new TrackedTimer(this, state is Task || state?.GetType().Name.Contains("Delay", StringComparison.Ordinal) == true);
        tracked.Inner = base.CreateTimer(s =>
        {
            tracked.Fired();
            callback(s);
        }, state, dueTime, period);
        tracked.Schedule(dueTime, period);
        return tracked;
    }

    private void Update(TrackedTimer timer, bool live)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (live)
            {
                _live.Add(timer);
            }
            else
            {
                _live.Remove(timer);
            }
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    private sealed class TrackedTimer(TrackingTimeProvider owner, bool isDelay) : ITimer
    {
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public ITimer Inner { get; set; } = null!;

        public bool IsDelay { get; } = isDelay;

        /// <summary>When it fires next; null for an infinite due time (live, but only a timeout can end its wait).</summary>
        public DateTimeOffset? Due { get; private set; }

        public void Schedule(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            if (dueTime == TimeSpan.Zero && (period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero))
            {
                // Fired at once, inside the fake clock's CreateTimer or Change.
                Due = null;
                owner.Update(this, live: false);
                return;
            }
            Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner.GetUtcNow() + dueTime;
            owner.Update(this, live: IsDelay || Due is not null);
        }

        public void Fired()
        {
            if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
            {
                owner.Update(this, live: false);
            }
            else
            {
                Due = owner.GetUtcNow() + _period;
                owner.Update(this, live: true);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = Inner.Change(dueTime, period);
            Schedule(dueTime, period);
            return changed;
        }

        public void Dispose()
        {
            Inner.Dispose();
            owner.Update(this, live: false);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
