using System.Globalization;
using Baton.Errors;
using Baton.Requests;

namespace Baton.Accounting.Budgets;

/// <summary>
/// Admission by budget. Before any upstream call, the request's worst-case cost is reserved on every budget
/// it falls under; if that would take any of them past its hard limit, the request is refused with
/// <c>budget_exceeded</c> and nothing is reserved. Because admitted requests hold their estimate until they
/// settle, concurrent requests cannot together overshoot a budget by more than what they actually cost beyond
/// their estimates.
/// </summary>
public sealed class BudgetGate(BudgetPolicy policy, IBudgetStore store, TimeProvider time, TimeSpan reservationTimeout)
{
    public IBudgetStore Store => store;

    public BudgetPolicy Policy => policy;

    public async ValueTask<BudgetAdmission> AdmitAsync(ChatRequest request, decimal estimatedUsd, CancellationToken cancellationToken)
    {
        if (Prepare(request, estimatedUsd) is not { } pending)
        {
            return BudgetAdmission.None;
        }
        var take = pending.Take;
        var result = await store.TryReserveAsync(take.ReservationId, take.Counters, take.AmountUsd, take.Now, take.ExpiresAt, cancellationToken).ConfigureAwait(false);
        return Conclude(pending, result);
    }

    /// <summary>The reservation <paramref name="request"/> needs; null when no budget applies to it.</summary>
    internal PendingReservation? Prepare(ChatRequest request, decimal estimatedUsd)
    {
        var now = time.GetUtcNow();
        var budgets = policy.For(request, now);
        if (budgets.Count == 0)
        {
            return null;
        }
        var counters = budgets.Select(b => new BudgetCounter(b.CounterKey, b.HardUsd)).ToList();
        return new PendingReservation(budgets, new Admission.BudgetTake(Guid.NewGuid().ToString("N"), counters, estimatedUsd, now, now + reservationTimeout));
    }

    /// <summary>The admission a reservation's <paramref name="result"/> makes, or the <c>budget_exceeded</c> refusal.</summary>
    internal BudgetAdmission Conclude(PendingReservation pending, BudgetReservationResult result)
    {
        var (budgets, take) = pending;
        if (!result.Granted)
        {
            throw Exceeded(budgets[result.RefusedBy], result.Before[result.RefusedBy], take.AmountUsd, take.Now);
        }
        var warnings = new List<string>();
        for (var i = 0; i < budgets.Count; i++)
        {
            var projected = result.Before[i].CommittedUsd + take.AmountUsd;
            if (budgets[i].SoftUsd is { } soft && projected > soft)
            {
                warnings.Add($"budget {budgets[i].Describe()} may reach {Usd(projected)} of its {Usd(soft)} soft limit");
            }
        }
        return new BudgetAdmission(store, take.ReservationId, budgets.Select(b => b.CounterKey).ToList(), take.AmountUsd, warnings);
    }

    private static BatonException Exceeded(ApplicableBudget budget, BudgetState state, decimal estimate, DateTimeOffset now) =>
        new(429, "insufficient_quota",
            $"Budget {budget.Describe()} would be exceeded: {Usd(state.SpentUsd)} spent and {Usd(state.ReservedUsd)} reserved by requests " +
            $"in flight of its {Usd(budget.HardUsd!.Value)} hard limit, and this request may cost up to {Usd(estimate)}" +
            (budget.ResetsAt is { } resets ? $"; it resets at {resets.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}." : ".") +
            " Lower max_tokens to ask for less.",
            code: "budget_exceeded")
        {
            RetryAfter = budget.ResetsAt is { } at ? at - now : null,
        };

    internal static string Usd(decimal value) => "$" + value.ToString(value != 0 && Math.Abs(value) < 0.01m ? "0.######" : "0.00##", CultureInfo.InvariantCulture);
}

/// <summary>A reservation prepared for a request: the budgets it falls under and what to reserve on their counters.</summary>
internal sealed record PendingReservation(IReadOnlyList<ApplicableBudget> Budgets, Admission.BudgetTake Take);

/// <summary>
/// A request's reservation on its budgets, settled once with what the request really cost. An admission that
/// is disposed unsettled (the request failed) releases its reservation at no cost.
/// </summary>
public sealed class BudgetAdmission : IAsyncDisposable
{
    private readonly IBudgetStore? _store;
    private readonly string _id;
    private readonly IReadOnlyList<string> _counters;
    private int _settled;

    internal BudgetAdmission(IBudgetStore? store, string id, IReadOnlyList<string> counters, decimal estimatedUsd, IReadOnlyList<string> warnings)
    {
        _store = store;
        _id = id;
        _counters = counters;
        EstimatedUsd = estimatedUsd;
        Warnings = warnings;
    }

    /// <summary>No budget applies.</summary>
    public static BudgetAdmission None { get; } = new(null, "", [], 0, []);

    /// <summary>What was reserved.</summary>
    public decimal EstimatedUsd { get; }

    /// <summary>Soft limits this request may cross, for the <c>x-baton-budget-warning</c> header.</summary>
    public IReadOnlyList<string> Warnings { get; }

    public async ValueTask SettleAsync(decimal actualUsd)
    {
        if (_store is null || Interlocked.Exchange(ref _settled, 1) == 1)
        {
            return;
        }
        // The answer has been produced: its cost must be counted even if the caller has gone.
        await _store.SettleAsync(_id, _counters, actualUsd, CancellationToken.None).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => SettleAsync(0);
}
