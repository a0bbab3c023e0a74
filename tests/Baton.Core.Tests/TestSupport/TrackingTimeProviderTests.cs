using Baton.Providers;

namespace Baton.Core.Tests.TestSupport;

/// <summary>The fake-clock driver the engine tests rely on: it moves the clock exactly when the driven code is parked on it.</summary>
public sealed class TrackingTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_task_delay_is_a_parked_wait_and_a_timeout_is_not()
    {
        var time = new TrackingTimeProvider(Start);
        using var timed = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
        using var scope = new TimeoutScope(TimeSpan.FromSeconds(6), time, CancellationToken.None);
        // WaitAsync's timer carries a task too: a timeout, not a caller parked on the clock.
        var bounded = new TaskCompletionSource().Task.WaitAsync(TimeSpan.FromSeconds(7), time);

        Assert.Equal(0, time.ParkedDelays);
        Assert.Equal(Start.AddSeconds(5), time.NextDue);

        using var stop = new CancellationTokenSource();
        var plain = Task.Delay(TimeSpan.FromSeconds(8), time);
        var cancellable = Task.Delay(TimeSpan.FromSeconds(9), time, stop.Token);
        Assert.Equal(2, time.ParkedDelays);

        await stop.CancelAsync();
        Assert.True(cancellable.IsCanceled);
        Assert.Equal(1, time.ParkedDelays);

        time.Advance(TimeSpan.FromSeconds(8));
        Assert.True(plain.IsCompletedSuccessfully);
        Assert.True(timed.IsCancellationRequested && scope.TimedOut);
        await Assert.ThrowsAsync<TimeoutException>(() => bounded);
        Assert.Equal(0, time.ParkedDelays);
        Assert.Null(time.NextDue);
    }

    [Fact]
    public async Task The_clock_does_not_move_while_a_thread_runs_the_driven_code()
    {
        var time = new TrackingTimeProvider(Start);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        var drive = time.DriveAsync(async () =>
        {
            // One part of the call is busy (here until the test lets it go) while another waits for the clock.
            var busy = Task.Run(() =>
            {
                entered.Set();
                release.Wait();
                return time.GetUtcNow();
            });
            entered.Wait();
            await Task.Delay(TimeSpan.FromSeconds(10), time);
            return (Busy: await busy, Woke: time.GetUtcNow());
        }, TimeSpan.FromSeconds(1));

        // The driver has looked once already (before returning here) and saw a delay, but also the busy part.
        Assert.Equal(Start, time.GetUtcNow());
        Assert.Equal(1, time.ParkedDelays);
        release.Set();
        var (busy, woke) = await drive;

        Assert.Equal(Start, busy);
        Assert.Equal(Start.AddSeconds(10), woke);
    }

    [Fact]
    public async Task A_call_waiting_for_something_else_than_the_clock_leaves_it_alone()
    {
        var time = new TrackingTimeProvider(Start);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timeout = new TimeoutScope(TimeSpan.FromMinutes(1), time, CancellationToken.None);

        var drive = time.DriveAsync(async () =>
        {
            await gate.Task.WaitAsync(timeout.Token);
            await Task.Delay(TimeSpan.FromSeconds(5), time);
            return time.GetUtcNow();
        }, TimeSpan.FromSeconds(1));

        // Only a timeout's timer is live: nobody is parked on the clock, so it stays.
        Assert.Equal(Start, time.GetUtcNow());
        Assert.Equal(0, time.ParkedDelays);
        gate.SetResult();

        Assert.Equal(Start.AddSeconds(5), await drive);
        Assert.False(timeout.TimedOut);
    }

    [Fact]
    public async Task A_hang_is_parked_and_the_clock_moves_exactly_to_the_timeout_that_ends_it()
    {
        var time = new TrackingTimeProvider(Start);

        var ended = await time.DriveAsync(async () =>
        {
            using var timeout = new TimeoutScope(TimeSpan.FromSeconds(30), time, CancellationToken.None);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TrackingTimeProvider.HangAsync(time, timeout.Token));
            Assert.True(timeout.TimedOut);
            return time.GetUtcNow();
        }, TimeSpan.FromSeconds(7));

        Assert.Equal(Start.AddSeconds(30), ended);
        Assert.Equal(0, time.ParkedDelays);
    }
}
