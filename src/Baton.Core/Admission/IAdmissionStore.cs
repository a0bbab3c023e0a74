using Baton.Accounting.Budgets;
using Baton.RateLimiting;
using Baton.Requests;

namespace Baton.Admission;

/// <summary>
/// Admits a request against shared state in one atomic step: the key's revocation, the key's calls in flight and
/// its request and token buckets, the budget reservation, and the first deployment's calls in flight and buckets,
/// in that order. Each part is taken only when every part before it was granted, and a part once taken stays taken
/// when a later part refuses, exactly as the engine's separate steps behave on one gateway (a key's take is spent
/// even if the budget then refuses; a budget reservation is held while the request waits for its deployment).
/// A calls-in-flight slot is a lease that the caller gives back with <see cref="Release"/> and that expires by
/// itself if the gateway holding it dies. Gateways without shared state register no admission store: the engine
/// then takes each part from its in-process stores.
/// </summary>
public interface IAdmissionStore
{
    /// <summary>
    /// Runs every part of <paramref name="request"/> atomically. Null when the shared state is unavailable and its
    /// fail mode is to serve from the gateway's own state: the caller then takes each part the per-process way.
    /// Throws (503 <c>shared_state_unavailable</c>) when the fail mode is to refuse.
    /// </summary>
    ValueTask<AdmissionResult?> TryAdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);

    /// <summary>Gives back a calls-in-flight lease (off the request's path: nothing waits for it).</summary>
    void Release(ConcurrencyLease lease);
}

/// <summary>A take from one set of buckets, with a calls-in-flight lease when <see cref="MaxConcurrency"/> is set.</summary>
/// <param name="Bucket">The buckets' name, as in <see cref="IRateLimitStore"/>.</param>
/// <param name="Limits">Requests and tokens per minute (either may be null: no such bucket).</param>
/// <param name="Tokens">The tokens charged up front.</param>
/// <param name="Concurrency">The name of the calls-in-flight set; what holds a lease there.</param>
/// <param name="MaxConcurrency">At most this many leases at once in <paramref name="Concurrency"/>; null: no limit.</param>
public sealed record BucketTake(string Bucket, RateLimitSettings Limits, int Tokens, string Concurrency, int? MaxConcurrency);

/// <summary>A reservation of <paramref name="AmountUsd"/> on every counter, as <see cref="IBudgetStore.TryReserveAsync"/> makes it.</summary>
public sealed record BudgetTake(string ReservationId, IReadOnlyList<BudgetCounter> Counters, decimal AmountUsd, DateTimeOffset Now, DateTimeOffset ExpiresAt);

/// <summary>What one admission takes; a part left null is not taken.</summary>
public sealed class AdmissionRequest
{
    /// <summary>The virtual key whose revocation is checked first; null for a request without a key.</summary>
    public string? KeyId { get; init; }

    /// <summary>The key's buckets and <c>max_parallel</c>.</summary>
    public BucketTake? Key { get; init; }

    /// <summary>The budget reservation.</summary>
    public BudgetTake? Budget { get; init; }

    /// <summary>The first candidate deployment's buckets and <c>maxConcurrency</c>.</summary>
    public BucketTake? Deployment { get; init; }

    /// <summary>The id of the request's leases (one per calls-in-flight set it enters).</summary>
    public string LeaseId { get; init; } = UniqueIds.Random();
}

/// <summary>Where an admission stopped.</summary>
public enum AdmissionStage
{
    /// <summary>Every part was granted.</summary>
    Admitted,

    /// <summary>The key was revoked (on any gateway): nothing was taken.</summary>
    Revoked,

    /// <summary>The key has <c>max_parallel</c> requests in flight: nothing was taken.</summary>
    KeyConcurrency,

    /// <summary>The key's rpm or tpm bucket refused: nothing was taken.</summary>
    KeyRate,

    /// <summary>A budget refused: the key's buckets were charged, its calls-in-flight lease was not kept.</summary>
    Budget,

    /// <summary>The deployment has <c>maxConcurrency</c> calls in flight: the key's and the budget's parts were taken.</summary>
    DeploymentConcurrency,

    /// <summary>The deployment's buckets (or an upstream pause) refused: the key's and the budget's parts were taken.</summary>
    DeploymentRate,
}

/// <summary>
/// The outcome of <see cref="IAdmissionStore.TryAdmitAsync"/>. <see cref="Key"/> and <see cref="Deployment"/> say
/// how long until their buckets would allow the take (and which bucket refused); <see cref="KeyInFlight"/> and
/// <see cref="DeploymentInFlight"/> count the leases found (exactly the live ones when that part refused; a part that
/// had room may count expired leases not dropped yet); <see cref="Budget"/> is the reservation's result when
/// one was asked for and reached.
/// </summary>
public sealed record AdmissionResult(
    AdmissionStage Stage,
    RateLimitDecision Key,
    int KeyInFlight,
    BudgetReservationResult? Budget,
    RateLimitDecision Deployment,
    int DeploymentInFlight)
{
    /// <summary>True when every part was granted.</summary>
    public bool Admitted => Stage == AdmissionStage.Admitted;
}

/// <summary>One request's slot in a shared calls-in-flight set.</summary>
/// <param name="Concurrency">The set (<see cref="BucketTake.Concurrency"/>).</param>
/// <param name="LeaseId">The request's lease id.</param>
public readonly record struct ConcurrencyLease(string Concurrency, string LeaseId);
