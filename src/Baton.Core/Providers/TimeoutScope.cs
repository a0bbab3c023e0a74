namespace Baton.Providers;

/// <summary>
/// A token that is cancelled by the caller or when <paramref name="timeout"/> has passed on the injected
/// clock, and can tell which of the two happened.
/// </summary>
public sealed class TimeoutScope(TimeSpan timeout, TimeProvider time, CancellationToken caller) : IDisposable
{
    private readonly CancellationTokenSource _timer = new(timeout, time);
    private CancellationTokenSource? _linked;

    public TimeSpan Duration => timeout;

    public CancellationToken Token => (_linked ??= CancellationTokenSource.CreateLinkedTokenSource(caller, _timer.Token)).Token;

    public bool TimedOut => _timer.IsCancellationRequested && !caller.IsCancellationRequested;

    public void Dispose()
    {
        _linked?.Dispose();
        _timer.Dispose();
    }
}
