using System.Security.Cryptography.X509Certificates;
using Baton.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Hosting;

/// <summary>
/// Checks <c>gateway.tls</c>'s files every <c>gateway.tls.reloadSeconds</c> on the injected clock, and says in the
/// log when a renewed certificate is served or when one could not be read (the certificate served then stays), and,
/// once a day, when the certificate served expires within <see cref="ExpiryWarning"/> or has expired.
/// </summary>
internal sealed partial class GatewayCertificateReloader(GatewayCertificateSource source, TimeProvider time, ILogger<GatewayCertificateReloader> logger)
    : IHostedService, IDisposable
{
    /// <summary>How long before its end a certificate still served is warned of.</summary>
    internal static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(14);

    private static readonly TimeSpan WarnEvery = TimeSpan.FromDays(1);

    private readonly Lock _checking = new();
    private ITimer? _timer;
    private DateTimeOffset _lastExpiryWarning = DateTimeOffset.MinValue;

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
            var renewed = Renew();
            WarnOfExpiry();
            return renewed;
        }
        finally
        {
            _checking.Exit();
        }
    }

    private X509Certificate2? Renew()
    {
        try
        {
            if (source.Refresh() is not { } renewed)
            {
                return null;
            }
            Log.Renewed(logger, renewed.Subject, renewed.Thumbprint, renewed.NotAfter.ToUniversalTime());
            _lastExpiryWarning = DateTimeOffset.MinValue;
            return renewed;
        }
        catch (BatonConfigurationException ex)
        {
            // The message names the file and never the password.
            Log.Refused(logger, string.Join(" ", ex.Errors));
            return null;
        }
    }

    // A renewal that never comes (a broken cron job, a lapsed account) shows in the log days before clients refuse.
    private void WarnOfExpiry()
    {
        var now = time.GetUtcNow();
        var notAfter = new DateTimeOffset(source.Certificate.NotAfter.ToUniversalTime());
        if (notAfter - now > ExpiryWarning || now - _lastExpiryWarning < WarnEvery)
        {
            return;
        }
        _lastExpiryWarning = now;
        if (notAfter <= now)
        {
            Log.Expired(logger, source.Certificate.Subject, notAfter.UtcDateTime);
        }
        else
        {
            Log.Expiring(logger, source.Certificate.Subject, notAfter.UtcDateTime, Math.Ceiling((notAfter - now).TotalDays));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Serving the renewed certificate {Subject} (thumbprint {Thumbprint}, valid until {NotAfter:u}) to new connections")]
        public static partial void Renewed(ILogger logger, string subject, string thumbprint, DateTime notAfter);

        [LoggerMessage(2, LogLevel.Warning, "The certificate files changed but cannot be used; the certificate served stays until they can: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);

        [LoggerMessage(3, LogLevel.Warning, "The certificate served, {Subject}, expires on {NotAfter:u} (in {Days} days or less) and has not been renewed in its files")]
        public static partial void Expiring(ILogger logger, string subject, DateTime notAfter, double days);

        [LoggerMessage(4, LogLevel.Error, "The certificate served, {Subject}, expired on {NotAfter:u}: clients refuse it. Renew it in its files")]
        public static partial void Expired(ILogger logger, string subject, DateTime notAfter);
    }
}
