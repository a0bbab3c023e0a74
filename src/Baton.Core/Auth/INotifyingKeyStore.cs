namespace Baton.Auth;

/// <summary>
/// Implemented by a key store that several gateways share and that announces changes itself (PostgreSQL NOTIFY): tells this process that keys were changed elsewhere
/// (created, updated, revoked), so that the <see cref="KeyRing"/> drops what it has cached and reads the store again.
/// </summary>
public interface INotifyingKeyStore
{
    /// <summary>
    /// Raised after a key changed on any gateway, and whenever changes may have been missed (the feed reconnected):
    /// the listener must forget everything it has cached about keys.
    /// </summary>
    event EventHandler? KeysChanged;
}
