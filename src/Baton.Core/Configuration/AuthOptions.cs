namespace Baton.Configuration;

/// <summary>Who may call the gateway. See docs/security.md.</summary>
public sealed class AuthOptions
{
    /// <summary>
    /// The name of the environment variable holding the master key (never the key itself). When set, every
    /// endpoint but <c>/health</c> needs a key: the master key or a virtual key created with <c>/admin/keys</c>.
    /// </summary>
    public string? MasterKeyEnv { get; set; }

    /// <summary>
    /// Serve without keys on addresses other than loopback, accepting that anyone who reaches the port spends the
    /// providers' keys. Default false: without <see cref="MasterKeyEnv"/>, the gateway serves loopback only.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>The SQLite file holding the virtual keys (as hashes); the ledger's file when not set.</summary>
    public string? Path { get; set; }

    /// <summary>True when keys are required.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(MasterKeyEnv);

    /// <summary>The key store's file: <see cref="Path"/>, else the ledger's.</summary>
    public string DatabasePath(BatonOptions options) => System.IO.Path.GetFullPath(Path ?? options.Ledger.Path);

    /// <summary>The shortest master key accepted: a short key can be guessed.</summary>
    public const int MinimumMasterKeyLength = 16;
}
