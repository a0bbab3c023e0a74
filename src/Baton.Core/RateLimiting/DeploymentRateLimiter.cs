using Baton.Admission;
using Baton.Errors;

namespace Baton.RateLimiting;

/// <summary>
/// The limits of one deployment, shared by every model routing to it: requests and tokens per minute (token
/// buckets in an <see cref="IRateLimitStore"/>), calls in flight (counted here, in the process holding them),
/// and pauses learned from the upstream (its <c>x-ratelimit-*</c> headers and its 429s). With an
/// <see cref="IAdmissionStore"/> (shared state), calls in flight are also leases shared by every gateway. A caller takes a
/// <see cref="RateLimitLease"/> before calling and completes it with the reported usage afterwards.
/// </summary>
public sealed class DeploymentRateLimiter
{
    private readonly Lock _gate = new();
    private readonly IRateLimitStore _store;
    private readonly TimeProvider _time;
    private int _inFlight;
    private int _undecided;
    private bool _refusedWhileUndecided;
    // Made when a waiter first asks for it, and dropped when completed: a lease that ends with no one waiting (nearly
    // every one) then completes and replaces nothing.
    private TaskCompletionSource? _freed;
    private TaskCompletionSource _slotReturned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The limits of one deployment, with its buckets in <paramref name="store"/>.</summary>
    /// <param name="deployment">The deployment's id, <c>provider/upstream-model</c>: it names the buckets.</param>
    /// <param name="settings">Its rpm, tpm and concurrency limits, and how long a request may wait for room.</param>
    /// <param name="store">Where the buckets live: this process's memory, or Redis shared by every gateway.</param>
    /// <param name="time">The clock of the buckets' refill and of waits for room.</param>
    public DeploymentRateLimiter(string deployment, RateLimitSettings settings, IRateLimitStore store, TimeProvider time)
    {
        Deployment = deployment;
        Settings = settings;
        _concurrency = "deployment:" + deployment;
        _store = store;
        _time = time;
    }

    /// <summary>Shared admission (leases for calls in flight across gateways); null when the process counts alone.</summary>
    internal IAdmissionStore? Admission { get; init; }

    /// <summary>The deployment's id, <c>provider/upstream-model</c>.</summary>
    public string Deployment { get; }

    // The name of the shared calls-in-flight set, made once rather than on every admission.
    private readonly string _concurrency;

    /// <summary>The limits in force: requests and tokens per minute, calls in flight, and the longest wait for room.</summary>
    public RateLimitSettings Settings { get; }

    /// <summary>Calls holding a lease now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Completes when a lease ends or tokens are given back: the moment to try again when waiting on the concurrency limit.</summary>
    internal Task Freed
    {
        get
        {
            lock (_gate)
            {
                return (_freed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    /// <summary>
    /// Takes a lease for one request of about <paramref name="estimatedTokens"/> tokens, without waiting. When
    /// refused, the attempt's <see cref="RateLimitAttempt.RetryAfter"/> is how long until the buckets (or an upstream
    /// pause) allow it, or null when only the concurrency limit stands in the way (a call must end first).
    /// The concurrency slot is reserved under the lock; the store is asked outside it.
    /// </summary>
    public async ValueTask<RateLimitAttempt> TryAcquireAsync(int estimatedTokens, CancellationToken cancellationToken = default)
    {
        if (Admission is not null && Settings.MaxConcurrency is not null && await TryAcquireSharedAsync(estimatedTokens, cancellationToken).ConfigureAwait(false) is { } shared)
        {
            return shared;
        }
        lock (_gate)
        {
            if (Settings.MaxConcurrency is { } max && _inFlight >= max)
            {
                // A slot reserved for a take the store may still refuse: that caller wakes this one if it gives it back.
                _refusedWhileUndecided |= _undecided > 0;
                return default;
            }
            _inFlight++;
            _undecided++;
        }
        var decision = RateLimitDecision.Wait(TimeSpan.Zero);
        try
        {
            decision = await _store.TryTakeAsync(Deployment, Settings, estimatedTokens, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Decided(decision.Granted);
        }
        return decision.Granted
            ? new RateLimitAttempt(new RateLimitLease(this, estimatedTokens), null)
            : new RateLimitAttempt(null, decision.RetryAfter);
    }

    /// <summary>
    /// Takes the buckets and a shared calls-in-flight lease in one admission; null when the shared state is
    /// unavailable (fail mode local: this process counts alone). A slot held on another gateway frees no waiter
    /// here, so a refusal for calls in flight says to try again shortly rather than to wait for a local release.
    /// </summary>
    private async ValueTask<RateLimitAttempt?> TryAcquireSharedAsync(int estimatedTokens, CancellationToken cancellationToken)
    {
        var take = Take(estimatedTokens);
        var request = new AdmissionRequest { Deployment = take };
        var result = await Admission!.TryAdmitAsync(request, cancellationToken).ConfigureAwait(false);
        return result switch
        {
            null => null,
            { Admitted: true } => new RateLimitAttempt(Admitted(take, request.LeaseId), null),
            { Stage: AdmissionStage.DeploymentConcurrency } => new RateLimitAttempt(null, SharedSlotPoll),
            _ => new RateLimitAttempt(null, result.Deployment.RetryAfter),
        };
    }

    /// <summary>How often a request queued for a shared calls-in-flight slot asks again.</summary>
    internal static readonly TimeSpan SharedSlotPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>What an admission takes from this deployment for one call of about <paramref name="estimatedTokens"/> tokens.</summary>
    internal BucketTake Take(int estimatedTokens) => new(Deployment, Settings, estimatedTokens, _concurrency, Settings.MaxConcurrency);

    /// <summary>The lease of a call an <see cref="IAdmissionStore"/> admitted: counted here too, its shared lease given back when it ends.</summary>
    internal RateLimitLease Admitted(BucketTake take, string leaseId)
    {
        lock (_gate)
        {
            // The shared count includes this process's, so the shared grant implies room here.
            _inFlight++;
        }
        return new RateLimitLease(this, take.Tokens) { Shared = take.MaxConcurrency is null ? null : new ConcurrencyLease(take.Concurrency, leaseId) };
    }

    /// <summary>
    /// Ends a reservation the store has answered. A refused one gives its slot back without waking waiters (a
    /// refused take frees no capacity, and waking would make a waiter spin), unless another caller was refused
    /// that slot meanwhile.
    /// </summary>
    private void Decided(bool granted)
    {
        var wake = false;
        lock (_gate)
        {
            _undecided--;
            if (!granted)
            {
                _inFlight--;
                wake = _refusedWhileUndecided;
            }
            if (_undecided == 0)
            {
                _refusedWhileUndecided = false;
            }
        }
        if (wake)
        {
            TaskCompletionSource returned;
            lock (_gate)
            {
                returned = _slotReturned;
                _slotReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            returned.TrySetResult();
        }
    }

    /// <summary>
    /// Completes when a slot reserved for a take the store then refused is given back: the moment to try again for
    /// a caller that was refused that slot. Apart from <see cref="Freed"/> so that the refused caller, which waits
    /// for its buckets, is not woken by its own refusal.
    /// </summary>
    internal Task SlotReturned
    {
        get
        {
            lock (_gate)
            {
                return _slotReturned.Task;
            }
        }
    }

    /// <summary>
    /// Takes a lease, waiting at most <paramref name="maxWait"/> on the injected clock; past it, throws a 429
    /// <see cref="BatonException"/> (<c>rate_limited</c>) with <c>Retry-After</c>.
    /// </summary>
    public async Task<RateLimitLease> AcquireAsync(int estimatedTokens, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var (_, lease) = await RateLimitQueue.AcquireAnyAsync([this], estimatedTokens, maxWait, _time, cancellationToken).ConfigureAwait(false);
        return lease;
    }

    /// <summary>Corrects the lease's token charge with what the upstream reported using (once per lease).</summary>
    public void Settle(RateLimitLease lease, int actualTokens)
    {
        if (!lease.MarkSettled())
        {
            return;
        }
        var correction = actualTokens - lease.EstimatedTokens;
        if (correction != 0 && Settings.TokensPerMinute is not null)
        {
            StoreWrites.Forget(_store.ChargeAsync(Deployment, Settings, 0, correction));
            if (correction < 0)
            {
                SignalFreed();
            }
        }
    }

    /// <summary>Refuses new calls until <paramref name="until"/>: the upstream said it is out of budget.</summary>
    public void PauseUntil(DateTimeOffset until) => StoreWrites.Forget(_store.PauseUntilAsync(Deployment, Settings, until));

    /// <summary>Learns from a response's <c>x-ratelimit-*</c> headers: lowers the buckets to what is left, and pauses when nothing is.</summary>
    public void Observe(UpstreamRateLimit? upstream)
    {
        if (upstream is null)
        {
            return;
        }
        if (upstream.RemainingRequests is not null || upstream.RemainingTokens is not null)
        {
            StoreWrites.Forget(_store.LowerToAsync(Deployment, Settings, upstream.RemainingRequests, upstream.RemainingTokens));
        }
        if (upstream.ExhaustedFor is { } wait)
        {
            PauseUntil(_time.GetUtcNow() + wait);
        }
    }

    /// <summary>Learns from a failure: its headers, and after a 429 a pause until the upstream's <c>Retry-After</c> (else its reset).</summary>
    public void Observe(BatonException failure)
    {
        Observe(failure.UpstreamRateLimit);
        if (failure.UpstreamStatus == 429 &&
            (failure.RetryAfter ?? failure.UpstreamRateLimit?.ExhaustedFor ?? failure.UpstreamRateLimit?.LongestReset) is { } wait)
        {
            PauseUntil(_time.GetUtcNow() + wait);
        }
    }

    /// <summary>The budget left, for response headers; null when the deployment has no request or token limit.</summary>
    public ValueTask<RateLimitSnapshot?> SnapshotAsync(CancellationToken cancellationToken = default) =>
        Settings.HasBuckets ? _store.SnapshotAsync(Deployment, Settings, cancellationToken) : ValueTask.FromResult<RateLimitSnapshot?>(null);

    /// <summary>A retry within a lease is one more upstream request: it is charged even into debt.</summary>
    internal void ChargeRetry()
    {
        if (Settings.RequestsPerMinute is not null)
        {
            StoreWrites.Forget(_store.ChargeAsync(Deployment, Settings, 1, 0));
        }
    }

    internal void Release(ConcurrencyLease? shared = null)
    {
        lock (_gate)
        {
            _inFlight--;
        }
        if (shared is { } lease)
        {
            Admission?.Release(lease);
        }
        SignalFreed();
    }

    private void SignalFreed()
    {
        TaskCompletionSource? freed;
        lock (_gate)
        {
            (freed, _freed) = (_freed, null);
        }
        freed?.TrySetResult();
    }
}

/// <summary>The outcome of <see cref="DeploymentRateLimiter.TryAcquireAsync"/>: a lease, or why there is none.</summary>
/// <param name="Lease">The lease taken; null when refused.</param>
/// <param name="RetryAfter">When refused by the buckets or a pause, how long until they allow it; null when granted or when only the concurrency limit refused.</param>
public readonly record struct RateLimitAttempt(RateLimitLease? Lease, TimeSpan? RetryAfter);
