using System.Security.Cryptography.X509Certificates;
using Baton.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Hosting;

/// <summary>
/// Checks <c>gateway.tls</c>'s files every <c>gateway.tls.reloadSeconds</c> on the injected clock, and says in the
/// log when a renewed certificate is served or when one could not be read (the certificate served then stays).
/// </summary>
internal sealed partial class GatewayCertificateReloader(GatewayCertificateSource source, TimeProvider time, ILogger<GatewayCertificateReloader> logger)
    : IHostedService, IDisposable
{
    private readonly Lock _checking = new();
    private ITimer? _timer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (source.Interval > TimeSpan.Zero)
        {
            _timer = time.CreateTimer(_ => CheckOnce(), null, source.Interval, source.Interval);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    /// <summary>One check: the certificate served from now on, null when it did not change.</summary>
    public X509Certificate2? CheckOnce()
    {
        // A check still reading slow files when the next tick comes is not joined by a second one.
        if (!_checking.TryEnter())
        {
            return null;
        }
        try
        {
            if (source.Refresh() is { } renewed)
            {
                Log.Renewed(logger, renewed.Subject, renewed.Thumbprint, renewed.NotAfter.ToUniversalTime());
                return renewed;
            }
        }
        catch (BatonConfigurationException ex)
        {
            // The message names the file and never the password.
            Log.Refused(logger, string.Join(" ", ex.Errors));
        }
        finally
        {
            _checking.Exit();
        }
        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Serving the renewed certificate {Subject} (thumbprint {Thumbprint}, valid until {NotAfter:u}) to new connections")]
        public static partial void Renewed(ILogger logger, string subject, string thumbprint, DateTime notAfter);

        [LoggerMessage(2, LogLevel.Warning, "The certificate files changed but cannot be used; the certificate served stays until they can: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);
    }
}
