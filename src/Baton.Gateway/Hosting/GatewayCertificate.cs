using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Baton.Configuration;

namespace Baton.Gateway.Hosting;

/// <summary>
/// The certificate of <c>gateway.tls</c>, read once when the gateway is built: a PEM certificate (its key beside it or
/// in <c>keyPath</c>, encrypted or not) or a PKCS#12 file. A file that cannot be used stops the start with a message
/// naming the file and the key that points to it, never the password.
/// </summary>
internal static class GatewayCertificate
{
    /// <summary>The certificate <paramref name="tls"/> names; null when it names none.</summary>
    /// <exception cref="BatonConfigurationException">The files cannot be read, or hold no private key.</exception>
    public static X509Certificate2? Load(GatewayTlsOptions tls, Func<string, string?> environment)
    {
        if (string.IsNullOrWhiteSpace(tls.CertificatePath))
        {
            return null;
        }
        var path = tls.CertificatePath;
        var password = string.IsNullOrWhiteSpace(tls.PasswordEnv) ? null : environment(tls.PasswordEnv);
        var pem = IsPem(path, out var holdsKey);
        if (pem && !holdsKey && string.IsNullOrWhiteSpace(tls.KeyPath))
        {
            throw WithoutKey(path);
        }
        X509Certificate2 certificate;
        try
        {
            certificate = pem ? FromPem(path, tls.KeyPath, password) : X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new BatonConfigurationException([$"gateway.tls: cannot read the certificate {Describe(path, tls.KeyPath)}: {ex.Message}"]);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw WithoutKey(path);
        }
        if (!ForServers(certificate))
        {
            certificate.Dispose();
            throw new BatonConfigurationException([
                $"gateway.tls: the certificate {path} is not for servers: its extended key usage does not include server authentication ({ServerAuthentication})."]);
        }
        // Windows' TLS cannot use a key that lives only in memory, as a PEM key does: it is given a stored copy.
        return OperatingSystem.IsWindows() && pem
            ? X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)
            : certificate;
    }

    // As TLS clients check: a certificate that lists its uses must list server authentication; one that lists none may serve.
    private static bool ForServers(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usage)
            {
                return usage.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == ServerAuthentication);
            }
        }
        return true;
    }

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    private static X509Certificate2 FromPem(string path, string? keyPath, string? password)
    {
        keyPath = string.IsNullOrWhiteSpace(keyPath) ? null : keyPath;
        return password is null
            ? X509Certificate2.CreateFromPemFile(path, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath);
    }

    // PEM is text with "-----BEGIN ...-----" lines (after comments, perhaps); PKCS#12 is binary. A file that cannot be
    // read is left to the loader, which says why.
    private static bool IsPem(string path, out bool holdsKey)
    {
        holdsKey = false;
        try
        {
            using var file = File.OpenRead(path);
            // A certificate chain with its key is a few kilobytes; the markers are looked for in the first megabyte.
            var head = new byte[(int)Math.Min(file.Length, 1 << 20)];
            var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            var text = head.AsSpan(0, read);
            holdsKey = text.IndexOf("PRIVATE KEY-----"u8) >= 0;
            return text.IndexOf("-----BEGIN "u8) >= 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static BatonConfigurationException WithoutKey(string path) => new([
        $"gateway.tls: the certificate {path} comes without its private key: put the key in the same file, or name it with gateway.tls.keyPath."]);

    private static string Describe(string path, string? keyPath) =>
        string.IsNullOrWhiteSpace(keyPath) ? path : $"{path} (key {keyPath})";
}
