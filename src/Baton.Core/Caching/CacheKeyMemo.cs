using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Baton.Requests;

namespace Baton.Caching;

/// <summary>
/// The cache keys of recently seen request bodies. A key is a function of the body's bytes and the resolved model
/// alone, and the same bytes arrive again and again (every cache hit is a request sent before, and clients retry
/// and poll with the same body): those are keyed from a SHA-256 of the raw bytes, which costs a fraction of parsing
/// the body and writing its canonical form, and returns the key already made instead of a new string.
/// </summary>
/// <remarks>
/// A fixed table of slots chosen by the hash, each holding one immutable entry that a newer body replaces: memory is
/// bounded, lookups take no lock, and a lost race costs only a recomputation. The raw hash is SHA-256, as the key
/// is, so two bodies sharing an entry is as unlikely as two requests sharing a key.
/// </remarks>
internal sealed class CacheKeyMemo
{
    private const int Slots = 1024;

    /// <summary>Bodies past this are keyed directly: rarely repeated, and their hash is no longer cheap beside the rest.</summary>
    private const int MaxBodyBytes = 64 * 1024;

    private readonly Entry?[] _entries = new Entry?[Slots];

    /// <summary>The cache key of <paramref name="request"/> for <paramref name="resolvedModel"/> (see <see cref="CacheKey.Compute(ChatRequest, string)"/>).</summary>
    public string Compute(ChatRequest request, string resolvedModel)
    {
        var body = request.Native is { } native ? native.Body.Span : request.Body.Span;
        if (body.Length > MaxBodyBytes)
        {
            return CacheKey.Compute(request, resolvedModel);
        }
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, hash);
        var digest = MemoryMarshal.Read<Digest>(hash);
        var slot = (int)(digest.A & (Slots - 1));
        if (Volatile.Read(ref _entries[slot]) is { } entry && entry.Digest == digest && string.Equals(entry.Model, resolvedModel, StringComparison.Ordinal))
        {
            return entry.Key;
        }
        var key = CacheKey.Compute(request, resolvedModel);
        Volatile.Write(ref _entries[slot], new Entry(digest, resolvedModel, key));
        return key;
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Digest(ulong A, ulong B, ulong C, ulong D);

    private sealed record Entry(Digest Digest, string Model, string Key);
}
