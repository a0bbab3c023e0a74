using System.Security.Cryptography;
using System.Text;

namespace Baton.Auth;

/// <summary>Makes virtual key secrets and ids, and the hashes under which secrets are stored.</summary>
public static class KeySecrets
{
    /// <summary>The prefix every virtual key starts with, so that a leaked one is recognisable (and secret scanners can match it).</summary>
    public const string Prefix = "bk-";

    /// <summary>A new secret: the prefix and 256 random bits, base64url.</summary>
    public static string NewSecret() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>A new public id: <c>key_</c> and 96 random bits.</summary>
    public static string NewId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>
    /// The stored form of a secret: its SHA-256, hex. The secrets are 256 random bits, so the hash cannot be
    /// reversed by guessing, and no salt or slow hash is needed (which would cost every request).
    /// </summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary><c>bk-…</c> and the secret's last four characters.</summary>
    public static string Hint(string secret) => Prefix + "…" + secret[^4..];

    /// <summary>
    /// Compares a presented key with the master key in constant time: both are hashed first, so neither the
    /// content nor the length of the master key shows in how long the comparison takes.
    /// </summary>
    public static bool FixedTimeEquals(string presented, byte[] expectedHash) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), expectedHash);

    /// <summary>The SHA-256 of a secret, as bytes.</summary>
    public static byte[] HashBytes(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
