namespace Baton.Accounting.Budgets;

/// <summary>
/// One budget counter touched by a request: its key (budget, subject and period window) and its hard limit.
/// </summary>
public readonly record struct BudgetCounter(string Key, decimal? HardLimitUsd);

/// <summary>A counter's spending: settled, and reserved by requests in flight.</summary>
public readonly record struct BudgetState(decimal SpentUsd, decimal ReservedUsd)
{
    public decimal CommittedUsd => SpentUsd + ReservedUsd;
}

/// <summary>
/// The outcome of a reservation: granted on every counter, or refused by <see cref="RefusedBy"/> with nothing
/// reserved. <see cref="Before"/> is each counter's state before this reservation, in the order given.
/// </summary>
public sealed record BudgetReservationResult(bool Granted, int RefusedBy, IReadOnlyList<BudgetState> Before);

/// <summary>
/// Where budget counters live: the embedded SQLite store, or a shared store (Redis) so that many gateway
/// instances enforce one budget. Each operation is atomic across all the counters it is given.
/// </summary>
public interface IBudgetStore
{
    /// <summary>
    /// Reserves <paramref name="amountUsd"/> on every counter if, on each, spent + reserved + amount stays within
    /// its hard limit; otherwise reserves nothing. The reservation stops counting at <paramref name="expiresAt"/>.
    /// </summary>
    ValueTask<BudgetReservationResult> TryReserveAsync(
        string reservationId, IReadOnlyList<BudgetCounter> counters, decimal amountUsd, DateTimeOffset now, DateTimeOffset expiresAt,
        CancellationToken cancellationToken);

    /// <summary>Drops the reservation and adds what the request really cost to every counter.</summary>
    ValueTask SettleAsync(string reservationId, IReadOnlyList<string> counterKeys, decimal actualUsd, CancellationToken cancellationToken);

    /// <summary>A counter's state now.</summary>
    ValueTask<BudgetState> GetAsync(string counterKey, DateTimeOffset now, CancellationToken cancellationToken);
}
