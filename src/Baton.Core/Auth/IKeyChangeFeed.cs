namespace Baton.Auth;

/// <summary>
/// Tells every gateway instance that a virtual key changed (updated or revoked), so that each drops what it
/// cached about keys and reads the key store again on its next request. One instance alone needs no feed
/// (its <see cref="KeyRing"/> clears its own cache); instances sharing a key store share a feed (Redis pub/sub).
/// </summary>
public interface IKeyChangeFeed
{
    /// <summary>Announces a change to every instance, this one included; completes when it is sent.</summary>
    ValueTask AnnounceAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Announces that <paramref name="keyId"/> was revoked. A feed backed by shared state also records the revocation
    /// there, where every instance's next admission checks it without waiting for the announcement to arrive.
    /// </summary>
    ValueTask AnnounceRevokedAsync(string keyId, CancellationToken cancellationToken) => AnnounceAsync(cancellationToken);

    /// <summary>Calls <paramref name="onChange"/> whenever any instance announces a change.</summary>
    void Subscribe(Action onChange);
}
