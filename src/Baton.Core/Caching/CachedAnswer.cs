using Baton.Providers;

namespace Baton.Caching;

/// <summary>
/// A complete answer kept in the cache: the <c>chat.completion</c> body, the configured model and the
/// deployment that answered, and the usage it had when it was made.
/// </summary>
public sealed record CachedAnswer(string Key, string Model, string Deployment, byte[] Body, TokenUsage Usage, DateTimeOffset Created, DateTimeOffset Expires)
{
    public long Size => Body.Length + Key.Length + 64;

    /// <summary>
    /// True when an answer about to be saved under the same key is this one again (the same bytes, model, deployment
    /// and usage), and this one's expiry is at least half of, and at most, what the new save would give: rewriting it
    /// would then change nothing but refresh an expiry that is still far off. Past half its time to live an identical
    /// answer is saved again, so an answer asked for again and again never expires only because it was kept.
    /// </summary>
    internal bool CanStandFor(string model, string deployment, ReadOnlySpan<byte> body, TokenUsage usage, DateTimeOffset now, DateTimeOffset expires) =>
        Expires <= expires
        && (Expires - now) * 2 >= expires - now
        && Usage == usage
        && string.Equals(Model, model, StringComparison.Ordinal)
        && string.Equals(Deployment, deployment, StringComparison.Ordinal)
        && body.SequenceEqual(Body);
}

/// <summary>
/// A store that can tell from memory alone (never a file or the network, as this runs behind every stored answer)
/// that an answer being saved is already held, so that the save costs no copy and no write. Public so that the
/// shared stores (Redis) can be such a store too.
/// </summary>
public interface IHoldsAnswers
{
    /// <summary>The answer held under <paramref name="key"/> that <see cref="CachedAnswer.CanStandFor"/> the one being
    /// saved, its use recorded; null when the answer must be saved.</summary>
    CachedAnswer? FindEquivalent(string key, string model, string deployment, ReadOnlySpan<byte> body, TokenUsage usage, DateTimeOffset now, DateTimeOffset expires);
}

/// <summary>Entries, bytes, hits and misses of a cache.</summary>
public sealed record CacheStatistics(long Entries, long Bytes, long Hits, long Misses)
{
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}

/// <summary>
/// Where cached answers live. Implementations enforce expiry against the injected clock (a shared store: its
/// own TTLs) and a size cap by evicting the least recently used. Operations are asynchronous and never called
/// under a lock; in-process stores complete them synchronously. The Redis store (for many gateway instances)
/// implements this too, with an in-process first level.
/// </summary>
public interface ICacheStore : IDisposable
{
    /// <summary>The answer under <paramref name="key"/>, if present and not expired; a hit counts as a use.</summary>
    ValueTask<CachedAnswer?> FindAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores an answer (replacing one under the same key). It may be written behind the call, but a
    /// <see cref="FindAsync"/> on the same instance that follows sees it.</summary>
    ValueTask SaveAsync(CachedAnswer answer, CancellationToken cancellationToken = default);

    /// <summary>Removes every entry, or those of one model; returns how many.</summary>
    ValueTask<long> PurgeAsync(string? model = null, CancellationToken cancellationToken = default);

    /// <summary>The live entries and their bytes.</summary>
    ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken = default);

    /// <summary>Completes when every answer saved before the call is durably stored (at once for a store that writes synchronously).</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
