using Baton.Accounting.Budgets;
using Baton.Admission;
using Baton.Auth;
using Baton.Errors;
using Baton.RateLimiting;
using Baton.Requests;
using Baton.Telemetry;

namespace Baton.Engine;

public sealed partial class BatonEngine
{
    /// <summary>
    /// With shared state, the request's one round trip, with the meaning of the separate steps (see
    /// <see cref="IAdmissionStore"/>). The cache is looked up in process before it, so that one admission runs per
    /// request: <see cref="SharedParts.Key"/> for a cache hit (the key's revocation and limits: a hit is still a
    /// request), <see cref="SharedParts.All"/> after a miss (the key, the budget reservation and the first
    /// deployment's lease), and <see cref="SharedParts.BudgetAndDeployment"/> for a request whose key was admitted
    /// on its own (and whose revocation is checked again, at no cost). Null when there is no shared state, or when it
    /// is unavailable and fail mode local applies: the caller then takes each step the per-process way. A refusal
    /// throws what the separate step would have thrown.
    /// </summary>
    private async ValueTask<SharedAdmission?> AdmitSharedAsync(CandidatePlan plan, ChatRequest request, SharedParts parts, CancellationToken cancellationToken)
    {
        if (sharedAdmission is null)
        {
            return null;
        }
        var key = request.Options.Key;
        var keyTake = key is not null && keyLimits is not null && parts != SharedParts.BudgetAndDeployment ? keyLimits.Take(key, request.PromptCharacters / 4) : null;
        PendingReservation? budget = null;
        BucketTake? deploymentTake = null;
        var deployment = parts == SharedParts.Key ? null : plan.FirstUpcomingDeployment;
        try
        {
            if (parts != SharedParts.Key && accounting is { Budgets: { } gate } && accounting.BudgetsMayApplyTo(request) && accounting.Estimate(request, plan.UpcomingDeployments(), cancellationToken) is { } estimate)
            {
                budget = gate.Prepare(request, estimate);
            }
        }
        catch (BatonException refused)
        {
            Log.BudgetRefused(logger, plan.Requested.Name, request.ApiKeyId ?? TelemetryTags.NoKey, refused.Code ?? refused.Type, refused.Message);
            throw;
        }
        if (deployment is not null)
        {
            // The same estimate the rate-limit step charges (a tokenizer pass only for a deployment with a token limit).
            var tokens = deployment.RateLimiter.Settings.TokensPerMinute is int perMinute
                ? TokenEstimator.Estimate(request, deployment.Parameters.MaxTokens, perMinute)
                : 0;
            deploymentTake = deployment.RateLimiter.Take(tokens);
        }
        var asked = new AdmissionRequest { KeyId = key?.Id, Key = keyTake, Budget = budget?.Take, Deployment = deploymentTake };
        if (asked is { KeyId: null, Key: null, Budget: null, Deployment: null })
        {
            // Nothing shared to check (a cache hit without a key): no round trip.
            return new SharedAdmission(plan, KeyLease.None, BudgetAdmission.None);
        }
        if (await sharedAdmission.TryAdmitAsync(asked, cancellationToken).ConfigureAwait(false) is not { } result)
        {
            return null;
        }
        switch (result.Stage)
        {
            case AdmissionStage.Revoked:
                throw KeyLimiter.Revoked();
            case AdmissionStage.KeyConcurrency or AdmissionStage.KeyRate:
                throw KeyLimiter.RefusedBy(key!, result);
        }
        BudgetAdmission reserved;
        try
        {
            reserved = budget is null ? BudgetAdmission.None : accounting!.Budgets!.Conclude(budget, result.Budget!);
        }
        catch (BatonException refused)
        {
            Log.BudgetRefused(logger, plan.Requested.Name, request.ApiKeyId ?? TelemetryTags.NoKey, refused.Code ?? refused.Type, refused.Message);
            throw;
        }
        var keyLease = keyTake is null ? KeyLease.None : keyLimits!.Admitted(key!, keyTake, asked.LeaseId);
        if (result.Admitted && deployment is not null)
        {
            plan.Admitted = deployment.RateLimiter.Admitted(deploymentTake!, asked.LeaseId);
        }
        // A deployment that refused is asked again by the rate-limit step, which queues or moves on as it always does.
        return new SharedAdmission(plan, keyLease, reserved);
    }

    /// <summary>
    /// The hit's key admission: with shared state, the key-only script (revocation and limits), else the key's
    /// per-process limits. The answer is returned only when this admits the key.
    /// </summary>
    private async ValueTask<KeyLease> AdmitKeyForHitAsync(CandidatePlan plan, ChatRequest request, CancellationToken cancellationToken) =>
        await AdmitSharedAsync(plan, request, SharedParts.Key, cancellationToken).ConfigureAwait(false) is { } shared
            ? shared.Key
            : await AdmitKeyAsync(request, cancellationToken).ConfigureAwait(false);

    /// <summary>What one shared admission takes.</summary>
    private enum SharedParts
    {
        /// <summary>The key's revocation and limits, the budget and the first deployment: a request the cache did not answer.</summary>
        All,

        /// <summary>The key's revocation and limits only: a request the cache answered.</summary>
        Key,

        /// <summary>The budget and the first deployment (and the revocation again): a request whose key was admitted on its own.</summary>
        BudgetAndDeployment,
    }

    /// <summary>What a shared admission took for the request; disposing it gives back a deployment lease the request never used.</summary>
    private sealed class SharedAdmission(CandidatePlan plan, KeyLease key, BudgetAdmission budget) : IAsyncDisposable
    {
        public KeyLease Key => key;

        public BudgetAdmission Budget => budget;

        /// <summary>Frees the deployment lease when no attempt took it (the request ended before its first attempt).</summary>
        public void ReleaseUnused()
        {
            if (plan.Admitted is { } unused)
            {
                plan.Admitted = null;
                unused.Dispose();
            }
        }

        /// <summary>Everything, for a request that fails before its parts are handed on.</summary>
        public async ValueTask DisposeAsync()
        {
            ReleaseUnused();
            key.Dispose();
            await budget.DisposeAsync().ConfigureAwait(false);
        }
    }
}
