using System.Security.Cryptography;
using System.Text;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// Identifies a caller's API key for cost tracking and budgets without storing it: <c>key-</c> and the first
/// 16 hex digits of the key's SHA-256. Stable across restarts, so a key's budget and history follow it.
/// </summary>
public static class ApiKeyFingerprint
{
    /// <summary>The fingerprint of a <c>Bearer</c> token in an <c>Authorization</c> header value; null without one.</summary>
    public static string? From(string? authorization)
    {
        const string Scheme = "Bearer ";
        if (string.IsNullOrWhiteSpace(authorization) || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var key = authorization[Scheme.Length..].Trim();
        return key.Length == 0 ? null : Of(key);
    }

    public static string Of(string key) => "key-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
}
