using System.CommandLine;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary><c>baton serve</c>: runs the gateway.</summary>
internal static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var urls = new Option<string>("--urls") { Description = "Address(es) to listen on, separated by ';'.", DefaultValueFactory = _ => BatonHosts.DefaultGatewayUrl };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every request." };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "Console log format: 'simple' (one line per event) or 'json' (one JSON object per line, with trace and span ids).",
            DefaultValueFactory = _ => "simple",
        };
        logFormat.AcceptOnlyFromAmong("simple", "json");
        var command = new Command("serve", "Run the OpenAI-compatible gateway.") { config, urls, verbose, logFormat };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // The file is watched: task routing follows edits without a restart.
            var loaded = CommonOptions.Load(console, parse.GetValue(config), watch: true);
            if (loaded is null)
            {
                return CommonOptions.ConfigurationError;
            }
            CommonOptions.AnnounceSource(console, loaded);
            var address = parse.GetValue(urls)!;
            if (BatonHosts.ExposedWithoutKeys(loaded.Options, address) is { } exposed)
            {
                console.Error.WriteLine($"baton: refusing to serve {exposed} without keys: anyone who reaches it would spend your provider keys; " +
                                        "configure auth.masterKeyEnv (see docs/security.md), or set auth.allowAnonymous: true to accept the risk.");
                return CommonOptions.ConfigurationError;
            }
            WebApplication app;
            try
            {
                app = BatonHosts.BuildGateway(loaded.Options, address, parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information,
                    reloadFrom: loaded.Configuration, jsonLogs: parse.GetValue(logFormat) == "json");
            }
            catch (BatonConfigurationException ex)
            {
                // What only the start can tell: an https:// address without a certificate, a certificate that cannot be read.
                CommonOptions.WriteErrors(console, ex);
                return CommonOptions.ConfigurationError;
            }
            if (!await CommonOptions.StartAsync(console, app, address, cancellationToken))
            {
                return CommonOptions.StartError;
            }
            console.Out.MarkupLine($"[green]Baton gateway listening on {Markup.Escape(address)}[/] ({loaded.Options.Models.Count} models). " +
                                   "OpenAI API at /v1, API reference at /scalar. " +
                                   (loaded.Options.Auth.Enabled ? $"Keys required (master key in {Markup.Escape(loaded.Options.Auth.MasterKeyEnv!)}). " : "") +
                                   "Press Ctrl+C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            return 0;
        });
        return command;
    }
}
