using System.Diagnostics.CodeAnalysis;
using Baton.Auth;
using Baton.Caching;
using Baton.RateLimiting;

namespace Baton.Core.Tests.TestSupport;

/// <summary>
/// Synchronous forms of the asynchronous store operations, for tests on in-process stores: those complete at
/// once, which <see cref="Done{T}"/> checks, so a test reads like the sequence of calls it makes.
/// </summary>
internal static class SynchronousStoreExtensions
{
    public static bool TryAcquire(this DeploymentRateLimiter limiter, int tokens, [NotNullWhen(true)] out RateLimitLease? lease, out TimeSpan? retryAfter)
    {
        var attempt = Done(limiter.TryAcquireAsync(tokens));
        lease = attempt.Lease;
        retryAfter = attempt.RetryAfter;
        return lease is not null;
    }

    public static RateLimitSnapshot? Snapshot(this DeploymentRateLimiter limiter) => Done(limiter.SnapshotAsync());

    public static KeyLease Admit(this KeyLimiter limiter, VirtualKey key, int promptTokens) => Done(limiter.AdmitAsync(key, promptTokens));

    public static CacheStatistics Statistics(this ResponseCache cache) => Done(cache.GetStatisticsAsync());

    public static CachedAnswer? Find(this ICacheStore store, string key) => Done(store.FindAsync(key));

    public static void Save(this ICacheStore store, CachedAnswer answer)
    {
        var operation = store.SaveAsync(answer);
        if (!operation.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("an in-process store completes at once");
        }
    }

    public static long Purge(this ICacheStore store, string? model = null) => Done(store.PurgeAsync(model));

    public static (long Entries, long Bytes) Size(this ICacheStore store) => Done(store.SizeAsync());

    private static T Done<T>(ValueTask<T> operation)
    {
        if (!operation.IsCompleted)
        {
            throw new InvalidOperationException("an in-process store completes at once");
        }
        // A refusal is thrown as the caller would see it when awaiting.
        return operation.AsTask().GetAwaiter().GetResult();
    }
}
