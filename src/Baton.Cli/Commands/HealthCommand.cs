using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Baton.Gateway.Endpoints;
using Baton.Hosting;
using Baton.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton health</c>: the health of every deployment as a table. Without <c>--url</c> it probes each
/// deployment of the configuration with a minimal request; with <c>--url</c> it asks a running gateway,
/// which also knows what live traffic has shown. Exits 0 when everything is healthy, 1 otherwise.
/// </summary>
internal static class HealthCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var url = new Option<string?>("--url") { Description = "Ask a running gateway (e.g. http://127.0.0.1:8080) instead of probing from here." };
        var noProbe = new Option<bool>("--no-probe") { Description = "With --url: report what the gateway has seen, without probing." };
        var format = CommonOptions.Format();
        var command = new Command("health", "Check every deployment: state, circuit breaker, error rate and latency.") { config, url, noProbe, format };
        command.SetAction(async (parse, cancellationToken) =>
        {
            ProviderHealthResponse report;
            if (parse.GetValue(url) is { } gateway)
            {
                if (await GatewayCall.SendAsync(console, gateway, http =>
                        http.GetFromJsonAsync<ProviderHealthResponse>($"health/providers?probe={(!parse.GetValue(noProbe)).ToString().ToLowerInvariant()}", Json, cancellationToken)) is not { } answer)
                {
                    return 1;
                }
                report = answer;
            }
            else
            {
                var loaded = CommonOptions.Load(console, parse.GetValue(config));
                if (loaded is null)
                {
                    return CommonOptions.ConfigurationError;
                }
                if (parse.GetValue(format) != CommonOptions.JsonFormat)
                {
                    CommonOptions.AnnounceSource(console, loaded);
                }
                await using var services = new ServiceCollection().AddBaton(loaded.Options).AddBatonSimulator().BuildServiceProvider();
                var checks = await services.GetRequiredService<HealthReport>().CheckAsync(probe: true, cancellationToken);
                report = new ProviderHealthResponse(HealthReport.Overall(checks), checks.Select(GatewayViews.ProviderHealth).ToList());
            }
            if (parse.GetValue(format) == CommonOptions.JsonFormat)
            {
                CommonOptions.WriteJson(console, report);
            }
            else
            {
                console.Out.Write(Render(report));
                console.Out.MarkupLine($"Overall: [bold]{Markup.Escape(report.Status)}[/]");
            }
            return report.Status == "ok" ? 0 : 1;
        });
        return command;
    }

    private static Table Render(ProviderHealthResponse report)
    {
        var table = new Table()
            .AddColumn(new TableColumn("Deployment").NoWrap()).AddColumn(new TableColumn("State").NoWrap()).AddColumn("Breaker")
            .AddColumn("Errors").AddColumn("p50/p95 ms").AddColumn("Probe").AddColumn("Last error");
        foreach (var d in report.Deployments)
        {
            var probe = d.Probe is null ? "-" : d.Probe.Ok ? $"ok {d.Probe.LatencyMs:0} ms" : "failed";
            table.AddRow(
                Markup.Escape(d.Deployment),
                Colour(d.State),
                Markup.Escape(d.Breaker),
                d.ErrorRate.ToString("P0", CultureInfo.InvariantCulture),
                $"{Ms(d.LatencyP50Ms)}/{Ms(d.LatencyP95Ms)}",
                Markup.Escape(probe),
                Markup.Escape(Shorten(d.LastError ?? d.Probe?.Error ?? "")));
        }
        return table;
    }

    private static string Colour(string state) => state switch
    {
        "HEALTHY" => "[green]HEALTHY[/]",
        "DEGRADED" => "[yellow]DEGRADED[/]",
        "UNAVAILABLE" => "[red]UNAVAILABLE[/]",
        _ => Markup.Escape(state),
    };

    private static string Ms(double? value) => value is double ms ? ms.ToString("0", CultureInfo.InvariantCulture) : "-";

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
