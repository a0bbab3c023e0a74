using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Baton.Auth;

/// <summary>
/// Authenticates callers and administers virtual keys. The master key is compared in constant time; a virtual
/// key is looked up by the hash of the secret presented, and what the store answers is cached in memory, so
/// that a known key costs one SHA-256 and one dictionary read, and allocates nothing. Every change made here (update, revocation)
/// clears the cache, so a revoked key is refused from the next request on. Other gateway instances learn of it
/// through a shared <see cref="IKeyChangeFeed"/> (Redis pub/sub), or from a store that announces its own changes
/// (<see cref="INotifyingKeyStore"/>, PostgreSQL's NOTIFY).
/// </summary>
public sealed class KeyRing
{
    /// <summary>The most lookups kept; past it the cache starts over (keys are few, presented secrets may not be).</summary>
    private const int MaxCached = 10_000;

    private readonly IKeyStore store;
    private readonly TimeProvider time;
    private readonly IKeyChangeFeed? _changes;
    private readonly byte[]? _masterHash;
    private readonly ConcurrentDictionary<string, CallerIdentity> _byHash = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CallerIdentity>.AlternateLookup<ReadOnlySpan<char>> _byHashSpan;
    private long _generation;

    /// <summary>Keys in <paramref name="store"/>; changes made by other instances arrive through <paramref name="changes"/> when given.</summary>
    public KeyRing(IKeyStore store, string? masterKey, TimeProvider time, IKeyChangeFeed? changes = null)
    {
        this.store = store;
        this.time = time;
        _changes = changes;
        _masterHash = string.IsNullOrEmpty(masterKey) ? null : KeySecrets.HashBytes(masterKey);
        _byHashSpan = _byHash.GetAlternateLookup<ReadOnlySpan<char>>();
        changes?.Subscribe(Forget);
        if (store is INotifyingKeyStore notifying)
        {
            // The ring lives as long as the store (both are the container's singletons), so the handler is never removed.
            notifying.KeysChanged += (_, _) => Forget();
        }
    }

    /// <summary>The store the ring reads keys from and the admin API writes them to; reads through it bypass the ring's cache.</summary>
    public IKeyStore Store => store;

    /// <summary>Drops every cached lookup; a lookup under way when this runs is not cached (it may have read the old key).</summary>
    private void Forget()
    {
        Interlocked.Increment(ref _generation);
        _byHash.Clear();
    }

    /// <summary>Who presents <paramref name="presented"/>: the master key, an active virtual key, or nobody (null).</summary>
    /// <remarks>
    /// A known key costs one SHA-256 into a stack buffer (the same digest serves the master key's comparison and
    /// the cache's lookup, by its hex form on the stack) and no allocation: the cache holds the caller's identity
    /// ready made. Whether the key is still active (expiry) is checked on every request.
    /// </remarks>
    public ValueTask<CallerIdentity?> AuthenticateAsync(string? presented, CancellationToken cancellationToken) =>
        AuthenticateAsync(presented.AsSpan(), cancellationToken);

    /// <summary>
    /// As <see cref="AuthenticateAsync(string?, CancellationToken)"/>, for a key read from a header in place (the gateway's
    /// <c>Authorization: Bearer KEY</c>): no string is made for the secret unless it is a virtual key not yet cached.
    /// </summary>
    public ValueTask<CallerIdentity?> AuthenticateAsync(ReadOnlySpan<char> presented, CancellationToken cancellationToken) =>
        AuthenticateAsync(presented, memo: null, cancellationToken);

    /// <summary>
    /// As <see cref="AuthenticateAsync(ReadOnlySpan{char}, CancellationToken)"/>, with the digest of a key presented
    /// again on the same connection taken from <paramref name="memo"/> instead of hashed again.
    /// </summary>
    public ValueTask<CallerIdentity?> AuthenticateAsync(ReadOnlySpan<char> presented, PresentedKeyMemo? memo, CancellationToken cancellationToken)
    {
        if (presented.IsEmpty)
        {
            return ValueTask.FromResult<CallerIdentity?>(null);
        }
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        if (memo is null || !memo.TryGet(presented, digest))
        {
            HashSecret(presented, digest);
            memo?.Remember(presented, digest);
        }
        if (_masterHash is not null && CryptographicOperations.FixedTimeEquals(digest, _masterHash))
        {
            return ValueTask.FromResult<CallerIdentity?>(CallerIdentity.Master);
        }
        if (!presented.StartsWith(KeySecrets.Prefix.AsSpan(), StringComparison.Ordinal))
        {
            return ValueTask.FromResult<CallerIdentity?>(null);
        }
        Span<char> hash = stackalloc char[SHA256.HashSizeInBytes * 2];
        Convert.TryToHexStringLower(digest, hash, out _);
        if (_byHashSpan.TryGetValue(hash, out var known))
        {
            return ValueTask.FromResult(Active(known));
        }
        return FindAsync(new string(hash), cancellationToken);
    }

    private async ValueTask<CallerIdentity?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        // Only keys that exist are cached: a flood of made-up secrets cannot fill the memory with misses.
        var generation = Interlocked.Read(ref _generation);
        var key = await store.FindByHashAsync(hash, cancellationToken).ConfigureAwait(false);
        if (key is null)
        {
            return null;
        }
        var identity = new CallerIdentity(key);
        if (_byHash.Count >= MaxCached)
        {
            _byHash.Clear();
        }
        _byHash[hash] = identity;
        if (Interlocked.Read(ref _generation) != generation)
        {
            // The keys changed while this one was read: what was read may be stale, so it is not kept.
            _byHash.TryRemove(new KeyValuePair<string, CallerIdentity>(hash, identity));
        }
        return Active(identity);
    }

    private CallerIdentity? Active(CallerIdentity identity) => identity.Key!.IsActive(time.GetUtcNow()) ? identity : null;

    /// <summary>The SHA-256 of a secret's UTF-8 bytes, as <see cref="KeySecrets.Hash"/> computes it, without allocating.</summary>
    private static void HashSecret(ReadOnlySpan<char> secret, Span<byte> digest)
    {
        const int StackLimit = 512;
        var length = Encoding.UTF8.GetByteCount(secret);
        byte[]? rented = null;
        Span<byte> bytes = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(secret, bytes);
            SHA256.HashData(bytes[..written], digest);
        }
        finally
        {
            if (rented is not null)
            {
                // A secret went through it: cleared before it goes back to the pool.
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>Creates a key from <paramref name="settings"/> (its id, hint and dates are set here) and returns it with its secret.</summary>
    public async ValueTask<(VirtualKey Key, string Secret)> CreateAsync(VirtualKey settings, CancellationToken cancellationToken)
    {
        var secret = KeySecrets.NewSecret();
        var key = settings with { Id = KeySecrets.NewId(), Hint = KeySecrets.Hint(secret), CreatedAt = time.GetUtcNow(), RevokedAt = null };
        await store.CreateAsync(key, KeySecrets.Hash(secret), cancellationToken).ConfigureAwait(false);
        return (key, secret);
    }

    /// <summary>Replaces a key's settings; false when there is no such key.</summary>
    public async ValueTask<bool> UpdateAsync(VirtualKey key, CancellationToken cancellationToken)
    {
        var updated = await store.UpdateAsync(key, cancellationToken).ConfigureAwait(false);
        await ChangedAsync(cancellationToken).ConfigureAwait(false);
        return updated;
    }

    /// <summary>Revokes a key from now on; null when there is no such key. Revoking twice keeps the first date.</summary>
    public async ValueTask<VirtualKey?> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        var key = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (key is null)
        {
            return null;
        }
        if (key.RevokedAt is null)
        {
            key = key with { RevokedAt = time.GetUtcNow() };
            await store.UpdateAsync(key, cancellationToken).ConfigureAwait(false);
        }
        Forget();
        if (_changes is not null)
        {
            await _changes.AnnounceRevokedAsync(key.Id, cancellationToken).ConfigureAwait(false);
        }
        return key;
    }

    private async ValueTask ChangedAsync(CancellationToken cancellationToken)
    {
        Forget();
        if (_changes is not null)
        {
            await _changes.AnnounceAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
