namespace Baton.Auth;

/// <summary>
/// Where virtual keys live, each under the hash of its secret (see <see cref="KeySecrets.Hash"/>); the secret
/// itself is never given to a store. The embedded store is SQLite; a shared one serves many gateways.
/// </summary>
public interface IKeyStore
{
    /// <summary>Adds a key, stored under <paramref name="secretHash"/>.</summary>
    ValueTask CreateAsync(VirtualKey key, string secretHash, CancellationToken cancellationToken);

    /// <summary>The key whose secret has this hash, revoked or not; null when there is none.</summary>
    ValueTask<VirtualKey?> FindByHashAsync(string secretHash, CancellationToken cancellationToken);

    /// <summary>The key with this id; null when there is none.</summary>
    ValueTask<VirtualKey?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Every key, revoked ones included, oldest first.</summary>
    ValueTask<IReadOnlyList<VirtualKey>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Replaces a key's settings (its secret is unchanged); false when there is no key with its id.</summary>
    ValueTask<bool> UpdateAsync(VirtualKey key, CancellationToken cancellationToken);
}
