using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Baton.Gateway.Tests.TestSupport;

/// <summary>Self-signed certificates for 127.0.0.1, written as PEM files the way <c>gateway.tls</c> reads them.</summary>
internal static class TestCertificates
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>
    /// A new certificate and key as <c>gateway.crt</c> and <c>gateway.key</c> in <paramref name="directory"/> (the key
    /// encrypted when a password is given), replacing what is there; its use is client authentication alone when
    /// <paramref name="forServers"/> is false; valid from a few minutes ago for <paramref name="validFor"/> (a day).
    /// </summary>
    public static (string Certificate, string Key) WritePem(string directory, string? encryptWith = null, bool forServers = true, TimeSpan? validFor = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(forServers ? ServerAuthentication : ClientAuthentication)], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow + (validFor ?? TimeSpan.FromDays(1)));
        var certificatePath = Path.Combine(directory, "gateway.crt");
        var keyPath = Path.Combine(directory, "gateway.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, encryptWith is null
            ? key.ExportPkcs8PrivateKeyPem()
            : key.ExportEncryptedPkcs8PrivateKeyPem(encryptWith, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));
        return (certificatePath, keyPath);
    }

    /// <summary>The SHA-1 hash (the thumbprint) of the certificate in <paramref name="path"/>.</summary>
    public static string ThumbprintOf(string path)
    {
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(path);
        return certificate.GetCertHashString();
    }
}
