using System.Collections.Concurrent;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Gateway.Tests.Hosting;

/// <summary>
/// <c>gateway.tls.reloadSeconds</c> on a fake clock: the files checked once per period, a renewal caught half-written
/// left alone (and said once), the renewal served once whole, no checks at all with 0, and a certificate near its end
/// warned of once a day.
/// </summary>
public sealed class GatewayCertificateReloaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-tls-reload-").FullName;
    // Started at the real time: the certificates the test writes are valid from it.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly CapturingLogger _logger = new();

    private static readonly TimeSpan Year = TimeSpan.FromDays(365);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_renewal_is_served_at_the_first_check_after_it_is_whole_and_a_half_written_one_is_reported_once()
    {
        var (certificate, key) = TestCertificates.WritePem(_directory, validFor: Year);
        var first = TestCertificates.ThumbprintOf(certificate);
        var tls = new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key, ReloadSeconds = 60 };
        var source = GatewayCertificateSource.Load(tls, _ => null)!;
        using var reloader = new GatewayCertificateReloader(source, _time, _logger);
        await reloader.StartAsync(CancellationToken.None);

        // The certificate renewed, its key not yet: the old key does not go with it.
        var oldKey = await File.ReadAllTextAsync(key);
        TestCertificates.WritePem(_directory, validFor: Year);
        var newKey = await File.ReadAllTextAsync(key);
        await File.WriteAllTextAsync(key, oldKey);
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(_logger.Lines);
        _time.Advance(TimeSpan.FromSeconds(1));
        var refused = Assert.Single(_logger.Lines);
        Assert.StartsWith("Warning The certificate files changed but cannot be used; the certificate served stays until they can: gateway.tls: cannot read the certificate " + certificate, refused);
        Assert.Equal(first, source.Certificate.GetCertHashString());
        Assert.Equal(first, source.Context.TargetCertificate.GetCertHashString());

        // The same files at the next check: nothing new to say.
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Single(_logger.Lines);

        await File.WriteAllTextAsync(key, newKey);
        _time.Advance(TimeSpan.FromSeconds(60));

        var renewed = TestCertificates.ThumbprintOf(certificate);
        Assert.NotEqual(first, renewed);
        Assert.Equal(renewed, source.Certificate.GetCertHashString());
        Assert.Equal(renewed, source.Context.TargetCertificate.GetCertHashString());
        Assert.Equal(2, _logger.Lines.Count);
        Assert.StartsWith($"Information Serving the renewed certificate CN=127.0.0.1 (thumbprint {renewed}, valid until ", _logger.Lines.Last());

        await reloader.StopAsync(CancellationToken.None);
        TestCertificates.WritePem(_directory, validFor: Year);
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(renewed, source.Certificate.GetCertHashString());
    }

    [Fact]
    public async Task With_reloadSeconds_0_the_files_are_read_only_at_start()
    {
        var (certificate, key) = TestCertificates.WritePem(_directory, validFor: Year);
        var first = TestCertificates.ThumbprintOf(certificate);
        var source = GatewayCertificateSource.Load(new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key, ReloadSeconds = 0 }, _ => null)!;
        using var reloader = new GatewayCertificateReloader(source, _time, _logger);
        await reloader.StartAsync(CancellationToken.None);

        TestCertificates.WritePem(_directory, validFor: Year);
        _time.Advance(TimeSpan.FromDays(2));

        Assert.Equal(first, source.Certificate.GetCertHashString());
        Assert.Empty(_logger.Lines);
    }

    [Fact]
    public async Task A_certificate_near_its_end_is_warned_of_once_a_day_and_an_expired_one_is_an_error()
    {
        var (certificate, key) = TestCertificates.WritePem(_directory, validFor: TimeSpan.FromDays(20));
        var source = GatewayCertificateSource.Load(new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key, ReloadSeconds = 3600 }, _ => null)!;
        using var reloader = new GatewayCertificateReloader(source, _time, _logger);
        await reloader.StartAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromDays(5));
        Assert.Empty(_logger.Lines);

        _time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        var warning = Assert.Single(_logger.Lines);
        Assert.StartsWith("Warning The certificate served, CN=127.0.0.1, expires on ", warning);
        Assert.Contains("(in 14 days or less) and has not been renewed in its files", warning);

        _time.Advance(TimeSpan.FromHours(23));
        Assert.Single(_logger.Lines);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(2, _logger.Lines.Count);

        _time.Advance(TimeSpan.FromDays(14));
        Assert.StartsWith("Error The certificate served, CN=127.0.0.1, expired on ", _logger.Lines.Last());
        Assert.EndsWith("clients refuse it. Renew it in its files", _logger.Lines.Last());

        // Renewed in its files: served, and nothing more to warn of.
        TestCertificates.WritePem(_directory, validFor: Year);
        _logger.Lines.Clear();
        _time.Advance(TimeSpan.FromHours(1));
        Assert.StartsWith("Information Serving the renewed certificate", Assert.Single(_logger.Lines));
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0.5, false)]
    [InlineData(86_401, false)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(86_400, true)]
    public void ReloadSeconds_is_0_or_from_one_second_to_a_day(double seconds, bool valid)
    {
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Models["m"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = "baton-sim-1" }] };
        options.Gateway.Tls = new GatewayTlsOptions { CertificatePath = "gateway.pem", ReloadSeconds = seconds };

        var errors = BatonOptionsValidator.Validate(options, _ => null);

        Assert.Equal(valid, !errors.Any(error => error.StartsWith("gateway.tls.reloadSeconds: must be 0 (read the certificate only at start) or from 1 to 86400 seconds.", StringComparison.Ordinal)));
    }

    private sealed class CapturingLogger : ILogger<GatewayCertificateReloader>
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue($"{logLevel} {formatter(state, exception)}");
    }
}
