using Baton.Configuration;
using Baton.Gateway.Simulation;
using Baton.Gateway.Telemetry;
using Microsoft.Extensions.Configuration;
using Baton.Hosting;
using Baton.Postgres;
using Baton.Redis;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Hosting;

/// <summary>Builds the stand-alone gateway and simulator applications (used by <c>baton serve</c>, <c>baton simulate</c> and the tests).</summary>
public static class BatonHosts
{
    public const string DefaultGatewayUrl = "http://127.0.0.1:8080";
    public const string DefaultSimulatorUrl = "http://127.0.0.1:8090";

    /// <param name="options">Baton's configuration.</param>
    /// <param name="urls">Address(es) to listen on.</param>
    /// <param name="minimumLevel">The least important log level written.</param>
    /// <param name="environment">Where provider keys are read; the process environment by default.</param>
    /// <param name="reloadFrom">The configuration the options came from, whose changes task routing follows.</param>
    /// <param name="jsonLogs">Console logs as one JSON object per line (with the trace and span ids), for log collectors.</param>
    /// <param name="telemetryEnvironment">Where the <c>OTEL_*</c> variables (OTLP export, service name) are read; the process environment by default.</param>
    public static WebApplication BuildGateway(
        BatonOptions options, string urls, LogLevel minimumLevel = LogLevel.Information, Func<string, string?>? environment = null,
        Microsoft.Extensions.Configuration.IConfiguration? reloadFrom = null, bool jsonLogs = false, Func<string, string?>? telemetryEnvironment = null)
    {
        if (ExposedWithoutKeys(options, urls) is { } exposed)
        {
            throw new BatonConfigurationException([
                $"--urls names {exposed}, which is not a loopback address, and no keys are configured: anyone who reaches it would spend your provider keys. " +
                "Configure auth.masterKeyEnv (see docs/security.md), or set auth.allowAnonymous to true to accept the risk."]);
        }
        // Pipeline files are checked now, as the rest of the configuration was, not on the first pipeline request.
        if (Pipelines.PipelineCatalog.Validate(options) is { Count: > 0 } pipelineErrors)
        {
            throw new BatonConfigurationException(pipelineErrors);
        }
        var certificates = GatewayCertificateSource.Load(options.Gateway.Tls, environment ?? Environment.GetEnvironmentVariable);
        if (certificates is null && Addresses(urls).Any(url => url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            throw new BatonConfigurationException([
                $"--urls names an https:// address ({urls}), which needs a certificate: set gateway.tls.certificatePath (see docs/configuration.md)."]);
        }
        var builder = WebApplication.CreateSlimBuilder(ServeOptions);
        builder.WebHost.UseUrls(urls);
        if (certificates is not null)
        {
            // https:// addresses serve this certificate, and negotiate HTTP/2 with the clients that offer it.
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.Services.AddSingleton(certificates);
            builder.Services.AddHostedService<GatewayCertificateReloader>();
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = Math.Max(options.Gateway.MaxRequestBodyBytes + 1, new KestrelServerLimits().MaxRequestBodySize ?? 0);
            if (certificates is not null)
            {
                kestrel.ConfigureHttpsDefaults(https =>
                {
                    // Kestrel checks the certificate it starts with; each handshake then takes the one served now.
                    https.ServerCertificate = certificates.Certificate;
                    https.OnAuthenticate = (_, tls) =>
                    {
                        tls.ServerCertificateContext = certificates.Context;
                        tls.ServerCertificate = null;
                    };
                });
            }
        });
        ConfigureLogging(builder, minimumLevel, jsonLogs);
        // The OpenTelemetry SDK reads its OTEL_* variables from the host's configuration: the ones the given environment
        // holds are put there, so that a gateway started with its own environment exports where that one says.
        telemetryEnvironment ??= Environment.GetEnvironmentVariable;
        var otel = Telemetry.OtlpExport.Variables
            .Select(name => KeyValuePair.Create(name, telemetryEnvironment(name)))
            .Where(variable => !string.IsNullOrWhiteSpace(variable.Value))
            .ToList();
        builder.Configuration.AddInMemoryCollection(otel);
        // Before AddBaton: the shared stores take the place of the SQLite ones.
        builder.Services.AddBatonPostgres(options);
        builder.Services.AddBaton(options, environment, reloadFrom);
        builder.Services.AddBatonRedis(options);
        builder.Services.AddBatonGateway();
        builder.Services.AddBatonOpenTelemetry(options.Observability, telemetryEnvironment);
        var app = builder.Build();
        app.UseBaton();
        app.MapBaton();
        if (options.Observability.Metrics)
        {
            app.MapBatonMetrics();
        }
        return app;
    }

    /// <summary>
    /// Secure by default: the first address of <paramref name="urls"/> that is not loopback when the gateway has
    /// no keys and does not allow anonymous callers; null when it may start.
    /// </summary>
    public static string? ExposedWithoutKeys(BatonOptions options, string urls)
    {
        if (options.Auth.Enabled || options.Auth.AllowAnonymous)
        {
            return null;
        }
        foreach (var url in Addresses(urls))
        {
            if (!IsLoopback(url))
            {
                return url;
            }
        }
        return null;
    }

    /// <summary>The addresses <c>--urls</c> names, separated by <c>;</c>.</summary>
    private static string[] Addresses(string urls) => urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>True for <c>localhost</c>, 127.0.0.0/8 and [::1]; false for wildcards (<c>*</c>, <c>+</c>, 0.0.0.0, [::]) and every other host.</summary>
    private static bool IsLoopback(string url)
    {
        var host = url;
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }
        var slash = host.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            host = host[..slash];
        }
        // Strip the port: after the closing bracket of an IPv6 address, or after the only colon otherwise.
        var portColon = host.StartsWith('[') ? host.IndexOf("]:", StringComparison.Ordinal) + 1 : host.LastIndexOf(':');
        if (portColon > 0)
        {
            host = host[..portColon];
        }
        host = host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address);
    }

    /// <summary>
    /// The host's own <c>appsettings.json</c> is read at start but not watched: Baton's configuration is its own file
    /// (watched by <see cref="Baton.Configuration.BatonConfigurationLoader"/>), and the host's watcher covers the whole
    /// working directory, where the ledger and the cache write their files: every commit there woke the watcher's
    /// thread (about 4 % of a loaded gateway's CPU, measured with the cache storing every answer).
    /// </summary>
    private static WebApplicationOptions ServeOptions => new() { Args = ["--hostBuilder:reloadConfigOnChange=false"] };

    public static WebApplication BuildSimulator(string urls, SimulatorBehavior? behavior = null, LogLevel minimumLevel = LogLevel.Warning)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        ConfigureLogging(builder, minimumLevel);
        var app = builder.Build();
        app.MapBatonSimulator(behavior);
        return app;
    }

    /// <summary>
    /// Starts an application built here. A failure to start (most often an address already in use) is thrown to the
    /// caller only: Kestrel and the host, which would each log it with its stack trace, are quiet until the start
    /// has succeeded, so the command can say it in one line.
    /// </summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        app.Services.GetRequiredService<StartupLogGate>().Open();
    }

    /// <summary>True when <paramref name="exception"/> says an address to listen on is taken.</summary>
    public static bool IsAddressInUse(Exception exception) =>
        exception is Microsoft.AspNetCore.Connections.AddressInUseException ||
        exception.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ||
        (exception.InnerException ?? exception) is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse };

    private static void ConfigureLogging(WebApplicationBuilder builder, LogLevel minimumLevel, bool json = false)
    {
        var gate = new StartupLogGate();
        builder.Services.AddSingleton(gate);
        builder.Logging.ClearProviders();
        // A log written inside a request's span carries its trace and span ids (as a scope), so logs and traces join up.
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (json)
        {
            builder.Logging.AddJsonConsole(console =>
            {
                console.IncludeScopes = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.IncludeScopes = true;
                console.TimestampFormat = "HH:mm:ss ";
            });
        }
        builder.Logging.SetMinimumLevel(minimumLevel);
        builder.Logging.AddFilter("Microsoft.AspNetCore", minimumLevel < LogLevel.Warning ? LogLevel.Warning : minimumLevel);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // With this category enabled at any level, ASP.NET Core starts an Activity and a logging scope for every
        // request (and HttpClient a child Activity for every upstream call): a tenth of the gateway's allocations
        // in a profile, for request logs that are filtered out anyway. Baton logs its own failures.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // The most specific rule wins, so these two carry the levels above as well as the gate.
        var aspNetLevel = minimumLevel < LogLevel.Warning ? LogLevel.Warning : minimumLevel;
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", level => gate.IsOpen && level >= aspNetLevel);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", level => gate.IsOpen && level >= minimumLevel);
    }

    /// <summary>
    /// Closed until the application has started; see <see cref="StartAsync"/>. While closed, the two categories that
    /// log a failed start ("Unable to start Kestrel", "Hosting failed to start") are silent.
    /// </summary>
    private sealed class StartupLogGate
    {
        private volatile bool _open;

        public bool IsOpen => _open;

        public void Open() => _open = true;
    }
}
