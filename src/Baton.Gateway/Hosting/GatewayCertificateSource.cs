using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Baton.Configuration;

namespace Baton.Gateway.Hosting;

/// <summary>
/// The certificate the gateway serves: the one <c>gateway.tls</c> names, read at start and read again by
/// <see cref="Refresh"/> when its files' contents change, so that a certificate renewed in place (by certbot, or a
/// mounted Kubernetes secret) reaches new connections without a restart. Connections already open keep theirs.
/// </summary>
/// <remarks>
/// Files are compared by a digest of their contents rather than by their times: a mounted secret is renewed by
/// swapping a symbolic link, and a copy may keep its old time. A renewal caught half-written (the certificate new,
/// the key still old) does not load; the certificate served stays, and the files are read again once they change.
/// </remarks>
internal sealed class GatewayCertificateSource
{
    private readonly GatewayTlsOptions _tls;
    private readonly Func<string, string?> _environment;
    private Served _served;
    private byte[]? _refused;

    private GatewayCertificateSource(GatewayTlsOptions tls, Func<string, string?> environment, Served served)
    {
        _tls = tls;
        _environment = environment;
        _served = served;
    }

    /// <summary>The certificate <paramref name="tls"/> names, ready to serve; null when it names none.</summary>
    /// <exception cref="BatonConfigurationException">The files cannot be read, or hold no private key.</exception>
    public static GatewayCertificateSource? Load(GatewayTlsOptions tls, Func<string, string?> environment)
    {
        // Digested before the certificate is read: a change made between the two is seen at the next check.
        var digest = Digest(tls);
        return GatewayCertificate.Load(tls, environment) is { } certificate
            ? new GatewayCertificateSource(tls, environment, Serve(certificate, digest))
            : null;
    }

    /// <summary>How often the files are checked; zero when only at start.</summary>
    public TimeSpan Interval => TimeSpan.FromSeconds(_tls.ReloadSeconds);

    /// <summary>The certificate served to new connections.</summary>
    public X509Certificate2 Certificate => Volatile.Read(ref _served).Certificate;

    /// <summary>The certificate with its chain, built once per certificate rather than once per handshake.</summary>
    public SslStreamCertificateContext Context => Volatile.Read(ref _served).Context;

    /// <summary>
    /// Reads the files again if their contents changed since the certificate served was read: the new certificate
    /// when it loads, null when nothing changed.
    /// </summary>
    /// <exception cref="BatonConfigurationException">
    /// The files changed and do not load (thrown once for the same contents; the certificate served stays).
    /// </exception>
    public X509Certificate2? Refresh()
    {
        var digest = Digest(_tls);
        var served = Volatile.Read(ref _served);
        if (digest.AsSpan().SequenceEqual(served.Digest) || (_refused is { } refused && digest.AsSpan().SequenceEqual(refused)))
        {
            return null;
        }
        X509Certificate2 certificate;
        try
        {
            certificate = GatewayCertificate.Load(_tls, _environment)!;
        }
        catch (BatonConfigurationException)
        {
            _refused = digest;
            throw;
        }
        _refused = null;
        // The certificate replaced is not disposed: a handshake that began with it may still be using it.
        Volatile.Write(ref _served, Serve(certificate, digest));
        return certificate;
    }

    private static Served Serve(X509Certificate2 certificate, byte[] digest) =>
        // offline: the chain is built from the files and the machine's store, never fetched while serving.
        new(certificate, SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true), digest);

    /// <summary>The SHA-256 of the certificate file, then of the key file (an unreadable file counts as empty).</summary>
    private static byte[] Digest(GatewayTlsOptions tls)
    {
        var digest = new byte[2 * SHA256.HashSizeInBytes];
        SHA256.HashData(ReadOrEmpty(tls.CertificatePath), digest);
        SHA256.HashData(ReadOrEmpty(tls.KeyPath), digest.AsSpan(SHA256.HashSizeInBytes));
        return digest;
    }

    private static byte[] ReadOrEmpty(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return [];
        }
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private sealed record Served(X509Certificate2 Certificate, SslStreamCertificateContext Context, byte[] Digest);
}
