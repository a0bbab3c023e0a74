using System.Collections.Concurrent;
using Baton.Configuration;
using Baton.Requests;
using Baton.Routing;

namespace Baton.Caching;

/// <summary>
/// Decides, per request, whether the cache is read and written (the configured mode, then the request's
/// <c>Cache-Control</c> and metadata), counts hits and misses, and makes identical requests in flight at
/// the same time share one upstream call: the first becomes the leader, the others wait for its answer.
/// </summary>
public sealed class ResponseCache(ICacheStore store, CacheOptions options, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<CachedAnswer?>> _inFlight = new(StringComparer.Ordinal);
    private readonly string _mode = options.Mode?.ToLowerInvariant() ?? CacheModes.Off;
    private readonly TimeSpan _defaultTtl = TimeSpan.FromSeconds(options.TtlSeconds ?? 3600);
    private readonly CacheKeyMemo _keys = new();
    private long _hits;
    private long _misses;

    public bool Enabled => _mode != CacheModes.Off;

    /// <summary>Entries and bytes in the store, and this instance's hits and misses.</summary>
    public async ValueTask<CacheStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        var (entries, bytes) = await store.SizeAsync(cancellationToken).ConfigureAwait(false);
        return new CacheStatistics(entries, bytes, Interlocked.Read(ref _hits), Interlocked.Read(ref _misses));
    }

    /// <summary>Removes every answer, or one model's; returns how many.</summary>
    public ValueTask<long> PurgeAsync(string? model = null, CancellationToken cancellationToken = default) => store.PurgeAsync(model, cancellationToken);

    /// <summary>Looks the request up; a miss that may be stored makes the caller the leader for its key until the lookup is disposed.</summary>
    /// <remarks>A value task: a hit or a miss found at once (the usual case, the stores answer from memory) allocates no task.</remarks>
    public async ValueTask<CacheLookup> LookupAsync(ChatRequest request, ModelRoute model, CancellationToken cancellationToken)
    {
        var read = _mode is CacheModes.On or CacheModes.ReadOnly && request.Cache.Lookup;
        var write = _mode is CacheModes.On or CacheModes.WriteOnly && request.Cache.Store;
        if (!read && !write)
        {
            return CacheLookup.Bypass;
        }
        // A request in another wire format is keyed by its own body: its translation leaves out what only that
        // format's providers read (top_k, prompt-cache markers), which still changes their answer.
        var key = _keys.Compute(request, model.Name);
        var ttl = request.Cache.Ttl ?? (model.CacheTtl is { } modelTtl ? modelTtl : _defaultTtl);
        while (true)
        {
            if (read && await store.FindAsync(key, cancellationToken).ConfigureAwait(false) is { } stored)
            {
                Interlocked.Increment(ref _hits);
                return CacheLookup.Hit(stored);
            }
            if (!write)
            {
                Interlocked.Increment(ref _misses);
                return new CacheLookup(this, key, ttl, leader: null, write: false);
            }
            if (!read && _inFlight.ContainsKey(key))
            {
                // Another request leads for this key; one that must not read the cache (no-cache) stores its own
                // answer without waiting, and a flood of them costs no leader each.
                Interlocked.Increment(ref _misses);
                return new CacheLookup(this, key, ttl, leader: null, write: true);
            }
            var mine = new TaskCompletionSource<CachedAnswer?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var current = _inFlight.GetOrAdd(key, mine);
            // A request that must not read the cache (no-cache) does not wait for another's answer either.
            if (current == mine || !read)
            {
                Interlocked.Increment(ref _misses);
                return new CacheLookup(this, key, ttl, current == mine ? mine : null, write: true);
            }
            if (await current.Task.WaitAsync(cancellationToken).ConfigureAwait(false) is { } shared)
            {
                Interlocked.Increment(ref _hits);
                return CacheLookup.Hit(shared);
            }
            // The leader failed: look again, and perhaps lead.
        }
    }

    /// <summary>
    /// Stores an answer: <c>owned</c> is the body as an array the cache may keep, null when the body is only lent (it
    /// is then copied, and only if it is stored).
    /// </summary>
    internal void Save(CacheLookup lookup, string model, string deployment, ReadOnlyMemory<byte> body, byte[]? owned, Providers.TokenUsage usage)
    {
        var now = time.GetUtcNow();
        var expires = now + lookup.Ttl;
        // Many requests that skip the lookup (no-cache) get the same answer: the one held already stands for it, and
        // the save costs neither a copy nor a write.
        if (store is IHoldsAnswers holder && holder.FindEquivalent(lookup.Key!, model, deployment, body.Span, usage, now, expires) is { } held)
        {
            lookup.Leader?.TrySetResult(held);
            return;
        }
        var answer = new CachedAnswer(lookup.Key!, model, deployment, owned ?? body.ToArray(), usage, now, expires);
        // Written behind the answer: the store keeps it visible to this instance at once, and a shared store
        // writes it to the others in the background.
        RateLimiting.StoreWrites.Forget(store.SaveAsync(answer));
        lookup.Leader?.TrySetResult(answer);
    }

    internal void Release(CacheLookup lookup)
    {
        if (lookup.Leader is { } leader)
        {
            // Waiters that find no answer look again (and one of them leads).
            leader.TrySetResult(null);
            _inFlight.TryRemove(new KeyValuePair<string, TaskCompletionSource<CachedAnswer?>>(lookup.Key!, leader));
        }
    }

    public void Dispose() => store.Dispose();
}

/// <summary>Whether a request was served from the cache, and what to store when it was not.</summary>
public sealed class CacheLookup : IDisposable
{
    public static readonly CacheLookup Bypass = new(null, null, TimeSpan.Zero, null, write: false) { Status = CacheStatus.Bypass };

    private readonly ResponseCache? _cache;
    private readonly bool _write;

    internal CacheLookup(ResponseCache? cache, string? key, TimeSpan ttl, TaskCompletionSource<CachedAnswer?>? leader, bool write)
    {
        _cache = cache;
        _write = write;
        Key = key;
        Ttl = ttl;
        Leader = leader;
    }

    public CacheStatus Status { get; private init; } = CacheStatus.Miss;

    /// <summary>The cached answer, on a hit.</summary>
    public CachedAnswer? Answer { get; private init; }

    public string? Key { get; }

    public TimeSpan Ttl { get; }

    /// <summary>True when the answer, once complete, should be stored.</summary>
    public bool Stores => _write && Status == CacheStatus.Miss;

    internal TaskCompletionSource<CachedAnswer?>? Leader { get; }

    internal static CacheLookup Hit(CachedAnswer answer) => new(null, answer.Key, TimeSpan.Zero, null, write: false) { Status = CacheStatus.Hit, Answer = answer };

    /// <summary>
    /// Stores a complete, successful answer (and hands it to identical requests waiting for it). The body is kept as
    /// it is: the caller does not change it afterwards.
    /// </summary>
    public void Save(string model, string deployment, byte[] body, Providers.TokenUsage usage)
    {
        if (Stores)
        {
            _cache!.Save(this, model, deployment, body, body, usage);
        }
    }

    /// <summary>
    /// Stores a complete, successful answer whose bytes are only lent (a pooled buffer): they are copied if, and only
    /// if, the answer is stored.
    /// </summary>
    public void Save(string model, string deployment, ReadOnlyMemory<byte> body, Providers.TokenUsage usage)
    {
        if (Stores)
        {
            _cache!.Save(this, model, deployment, body, owned: null, usage);
        }
    }

    public void Dispose() => _cache?.Release(this);
}

/// <summary>What the cache did for a request (the <c>x-baton-cache</c> header).</summary>
public enum CacheStatus
{
    Bypass,
    Miss,
    Hit,
}
