using System.Security.Cryptography;
using System.Text;

namespace Baton.Analysis;

/// <summary>
/// Hashes a sequence of files into one lowercase hex SHA-256: for each file, its relative path, a NUL (which no path
/// contains, so path and digest cannot run into each other) and the digest of its size and content. Hashing
/// per-file digests rather than raw bytes lets one read of a file feed every area's fingerprint.
/// </summary>
internal sealed class FingerprintBuilder : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Adds a file; callers add files in ordinal path order so the result does not depend on listing order.</summary>
    public void Add(ScannedFile file)
    {
        _hash.AppendData(Encoding.UTF8.GetBytes(file.RelativePath));
        _hash.AppendData([0]);
        _hash.AppendData(file.Digest);
    }

    public string Finish() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    public void Dispose() => _hash.Dispose();
}
