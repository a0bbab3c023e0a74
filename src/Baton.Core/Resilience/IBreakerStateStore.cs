using System.Collections.Concurrent;

namespace Baton.Resilience;

/// <summary>
/// Circuit-breaker state shared between gateway instances: a breaker opened by one is open on all. Each
/// instance keeps its own Polly breaker (it counts the failures it sees); this seam carries the decision.
/// Every member is cheap and never waits on the network: <see cref="OpenUntil"/> reads a local view that a shared
/// implementation keeps current in the background (Redis pub/sub), and <see cref="ReportOpened"/> and
/// <see cref="ReportClosed"/> publish in the background.
/// </summary>
public interface IBreakerStateStore
{
    /// <summary>Until when the deployment's breaker is open on some instance; null when it is open on none (or the break is over).</summary>
    DateTimeOffset? OpenUntil(string deployment);

    /// <summary>An instance opened the deployment's breaker until <paramref name="until"/>: every instance stops calling it.</summary>
    void ReportOpened(string deployment, DateTimeOffset until);

    /// <summary>An instance's probe succeeded and closed the breaker: every instance may call the deployment again.</summary>
    void ReportClosed(string deployment);
}

/// <summary>Breaker state in this process's memory, on the injected clock: what one instance shares with itself.</summary>
public sealed class InMemoryBreakerStateStore(TimeProvider time) : IBreakerStateStore
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _openUntil = new(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public DateTimeOffset? OpenUntil(string deployment) =>
        _openUntil.TryGetValue(deployment, out var until) && until > time.GetUtcNow() ? until : null;

    /// <inheritdoc />
    public void ReportOpened(string deployment, DateTimeOffset until) =>
        _openUntil.AddOrUpdate(deployment, until, (_, current) => until > current ? until : current);

    /// <inheritdoc />
    public void ReportClosed(string deployment) => _openUntil.TryRemove(deployment, out _);
}
