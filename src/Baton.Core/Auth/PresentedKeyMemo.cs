using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Baton.Auth;

/// <summary>
/// The SHA-256 of the last key presented on one client connection, so that a client sending the same key request
/// after request on a kept-alive connection is hashed once rather than on every request. It remembers a digest,
/// not an identity: the key is still looked up, and its revocation or expiry checked, on every request.
/// </summary>
/// <remarks>
/// One per connection whose requests come one at a time (HTTP/1.x); not safe for requests running at once. The
/// secret it compares against is the one the same connection last sent, which the server's own header parsing
/// keeps for the connection's lifetime as well.
/// </remarks>
public sealed class PresentedKeyMemo
{
    private readonly byte[] _digest = new byte[SHA256.HashSizeInBytes];
    private string? _secret;

    /// <summary>Copies the digest of <paramref name="presented"/> into <paramref name="digest"/> when it is the key remembered.</summary>
    internal bool TryGet(ReadOnlySpan<char> presented, Span<byte> digest)
    {
        if (_secret is null || _secret.Length != presented.Length ||
            !CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(_secret.AsSpan()), MemoryMarshal.AsBytes(presented)))
        {
            return false;
        }
        _digest.CopyTo(digest);
        return true;
    }

    /// <summary>Remembers <paramref name="digest"/> as the digest of <paramref name="presented"/>.</summary>
    internal void Remember(ReadOnlySpan<char> presented, ReadOnlySpan<byte> digest)
    {
        _secret = presented.ToString();
        digest.CopyTo(_digest);
    }
}
