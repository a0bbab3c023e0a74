using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Baton.Accounting.Ledger;
using Baton.Configuration;
using Baton.Errors;
using Baton.Gateway.Endpoints;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton costs</c>: seed 002's cost summary (total cost, requests, input and output tokens, and a breakdown
/// by model) read from the ledger file, or a table of every count, or an export as CSV or JSON (the shape of
/// <c>GET /v1/costs</c>).
/// </summary>
internal static class CostsCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var ledger = new Option<string?>("--ledger") { Description = "The ledger file (default: ledger.path of the configuration, else baton.db)." };
        var session = new Option<string?>("--session") { Description = "Only this session." };
        var model = new Option<string?>("--model") { Description = "Only this configured model." };
        var key = new Option<string?>("--key") { Description = "Only this API key fingerprint." };
        var user = new Option<string?>("--user") { Description = "Only this user." };
        var tag = new Option<string?>("--tag") { Description = "Only requests with this tag." };
        var since = new Option<string?>("--since") { Description = "From this ISO 8601 date or time (UTC unless it has an offset), inclusive." };
        var until = new Option<string?>("--until") { Description = "Up to this ISO 8601 date or time, exclusive." };
        var groupBy = new Option<string>("--group-by") { Description = $"Break down by {string.Join(", ", CostQueryParser.Groupings)}.", DefaultValueFactory = _ => "model" };
        var format = new Option<string>("--format") { Description = "summary (the default: totals and one line per group), table, csv or json.", DefaultValueFactory = _ => "summary" };
        format.AcceptOnlyFromAmong("summary", "table", "csv", "json");
        groupBy.AcceptOnlyFromAmong(CostQueryParser.Groupings);
        var command = new Command("costs", "Show what was spent, from the cost ledger.") { config, ledger, session, model, key, user, tag, since, until, groupBy, format };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // A shared ledger (postgres.connection) is read from the database, unless a file is named.
            var shared = parse.GetValue(ledger) is null ? SharedLedger(console, parse.GetValue(config)) : null;
            var path = parse.GetValue(ledger) is { } file ? Path.GetFullPath(file, console.WorkingDirectory)
                : shared is null ? LedgerPath(console, parse.GetValue(config)) : "";
            if (path is null)
            {
                return CommonOptions.ConfigurationError;
            }
            CostQuery query;
            try
            {
                var values = new (string Name, string? Value)[]
                {
                    (CostQueryParser.SessionId, parse.GetValue(session)), (CostQueryParser.Model, parse.GetValue(model)),
                    (CostQueryParser.Key, parse.GetValue(key)), (CostQueryParser.User, parse.GetValue(user)),
                    (CostQueryParser.Tag, parse.GetValue(tag)), (CostQueryParser.Since, parse.GetValue(since)),
                    (CostQueryParser.Until, parse.GetValue(until)), (CostQueryParser.GroupBy, parse.GetValue(groupBy)),
                };
                query = CostQueryParser.Parse(values.Where(v => v.Value is not null)
                    .Select(v => new KeyValuePair<string, IReadOnlyList<string?>>(v.Name, [v.Value])));
            }
            catch (BatonException ex)
            {
                console.Error.WriteLine($"baton: --{ex.Param?.Replace("_id", "", StringComparison.Ordinal).Replace('_', '-')}: {ex.Message}");
                return CommonOptions.ConfigurationError;
            }
            CostReport report;
            if (shared is not null)
            {
                try
                {
                    report = await Postgres.PostgresLedger.QueryAsync(shared, query, cancellationToken);
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
                {
                    console.Error.WriteLine($"baton: the ledger in PostgreSQL (postgres.connection) could not be read: {ex.Message}");
                    return 1;
                }
            }
            else if (!File.Exists(path))
            {
                console.Error.WriteLine($"baton: no ledger at {path}: nothing has been recorded yet (or pass --ledger / --config).");
                return 1;
            }
            else
            {
                report = LedgerQuery.Run(path, query);
            }
            switch (parse.GetValue(format))
            {
                case "json":
                    console.Out.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(GatewayViews.Costs(report), Json));
                    break;
                case "csv":
                    console.Out.Profile.Out.Writer.Write(Csv(report));
                    break;
                case "table":
                    Render(console, report);
                    break;
                default:
                    console.Out.Profile.Out.Writer.Write(Summary(report));
                    break;
            }
            return 0;
        });
        return command;
    }

    /// <summary>The connection string of the shared ledger the configuration sets up (<c>postgres.connection</c>); null for a file.</summary>
    private static string? SharedLedger(CliConsole console, string? configFile)
    {
        try
        {
            var options = BatonConfigurationLoader.Load(configFile, console.WorkingDirectory).Options;
            return options.Postgres.Enabled ? options.Postgres.Connection : null;
        }
        catch (BatonConfigurationException)
        {
            // LedgerPath reports the configuration's problems.
            return null;
        }
    }

    /// <summary>
    /// The ledger of the gateway the configuration file sets up. A relative <c>ledger.path</c> is relative to the
    /// directory the gateway runs in: the working directory when the file is there, else most likely the file's
    /// own directory (a gateway started there with <c>--config</c>), whichever holds the ledger.
    /// </summary>
    private static string? LedgerPath(CliConsole console, string? configFile)
    {
        try
        {
            // Only the ledger's location is needed: providers and keys are not checked, so costs can be read anywhere.
            DotEnvFile.Load(console.WorkingDirectory);
            var loaded = BatonConfigurationLoader.Load(configFile, console.WorkingDirectory);
            var file = string.IsNullOrWhiteSpace(loaded.Options.Ledger.Path) ? LedgerOptions.DefaultPath : loaded.Options.Ledger.Path;
            var inWorkingDirectory = Path.GetFullPath(file, console.WorkingDirectory);
            if (Path.IsPathRooted(file) || File.Exists(inWorkingDirectory) || loaded.FilePath is null)
            {
                return inWorkingDirectory;
            }
            var besideConfiguration = Path.GetFullPath(file, Path.GetDirectoryName(loaded.FilePath)!);
            return File.Exists(besideConfiguration) ? besideConfiguration : inWorkingDirectory;
        }
        catch (BatonConfigurationException ex)
        {
            console.Error.WriteLine("baton: the configuration is not valid:");
            foreach (var error in ex.Errors)
            {
                console.Error.WriteLine("  - " + error);
            }
            return null;
        }
    }

    /// <summary>
    /// Seed 002's <c>get_cost_summary</c> output, line for line: totals with four decimals, then one line per group
    /// (<c>ORCHESTRATOR: $0.0100 (1 requests, 1000 in, 500 out)</c>).
    /// </summary>
    internal static string Summary(CostReport report)
    {
        var total = report.Total;
        var text = new StringBuilder();
        text.Append(report.Query.SessionId is { } session ? $"Session {session} Cost Summary:" : "Cost Summary:").Append('\n');
        text.Append("  Total Cost: ").Append(Usd4(total.CostUsd)).Append('\n');
        text.Append("  Total Requests: ").Append(Number(total.Requests)).Append('\n');
        text.Append("  Input Tokens: ").Append(Number(total.PromptTokens)).Append('\n');
        text.Append("  Output Tokens: ").Append(Number(total.CompletionTokens)).Append('\n');
        text.Append('\n');
        var grouping = report.Query.GroupBy is CostGrouping.Model or CostGrouping.Tier ? "Model" : report.Query.GroupBy.ToString();
        text.Append(grouping).Append(" Breakdown:\n");
        foreach (var group in report.Breakdown)
        {
            var t = group.Totals;
            text.Append(CultureInfo.InvariantCulture, $"  {group.Key}: {Usd4(t.CostUsd)} ({t.Requests} requests, {t.PromptTokens} in, {t.CompletionTokens} out)\n");
        }
        return text.ToString();
    }

    private static string Usd4(decimal usd) => "$" + usd.ToString("0.0000", CultureInfo.InvariantCulture);

    private static void Render(CliConsole console, CostReport report)
    {
        var total = report.Total;
        var title = report.Query.SessionId is { } session ? $"Session {session} Cost Summary:" : "Cost Summary:";
        console.Out.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
        console.Out.WriteLine($"  Total Cost: {LedgerQuery.FormatUsd(total.CostUsd)}");
        console.Out.WriteLine($"  Total Requests: {Number(total.Requests)} ({Number(total.Attempts)} billed attempts, {Number(total.CacheHits)} cache hits)");
        console.Out.WriteLine($"  Input Tokens: {Number(total.PromptTokens)} ({Number(total.CachedTokens)} cached, {Number(total.CacheWriteTokens)} written to cache)");
        console.Out.WriteLine($"  Output Tokens: {Number(total.CompletionTokens)} ({Number(total.ReasoningTokens)} reasoning)");
        console.Out.WriteLine();
        var grouping = report.Query.GroupBy.ToString();
        var table = new Table().AddColumn(grouping).AddColumn(new TableColumn("Cost").RightAligned()).AddColumn(new TableColumn("Requests").RightAligned())
            .AddColumn(new TableColumn("Attempts").RightAligned()).AddColumn(new TableColumn("Cache hits").RightAligned())
            .AddColumn(new TableColumn("Input").RightAligned()).AddColumn(new TableColumn("Cached").RightAligned())
            .AddColumn(new TableColumn("Cache write").RightAligned())
            .AddColumn(new TableColumn("Output").RightAligned()).AddColumn(new TableColumn("Reasoning").RightAligned());
        foreach (var group in report.Breakdown)
        {
            var t = group.Totals;
            table.AddRow(Markup.Escape(group.Key), LedgerQuery.FormatUsd(t.CostUsd), Number(t.Requests), Number(t.Attempts), Number(t.CacheHits),
                Number(t.PromptTokens), Number(t.CachedTokens), Number(t.CacheWriteTokens), Number(t.CompletionTokens), Number(t.ReasoningTokens));
        }
        console.Out.MarkupLine($"[bold]Breakdown by {grouping.ToLowerInvariant()}:[/]");
        console.Out.Write(table);
    }

    private static string Csv(CostReport report)
    {
        var csv = new StringBuilder();
        csv.Append(report.Query.GroupBy.ToString().ToLowerInvariant())
            .Append(",cost_usd,requests,attempts,cache_hits,prompt_tokens,cached_tokens,cache_write_tokens,completion_tokens,reasoning_tokens\n");
        foreach (var group in report.Breakdown.Append(new CostGroup("(total)", report.Total)))
        {
            var t = group.Totals;
            csv.Append(Field(group.Key)).Append(',').Append(t.CostUsd.ToString(CultureInfo.InvariantCulture)).Append(',')
                .AppendJoin(',', new[] { t.Requests, t.Attempts, t.CacheHits, t.PromptTokens, t.CachedTokens, t.CacheWriteTokens, t.CompletionTokens, t.ReasoningTokens }
                    .Select(n => n.ToString(CultureInfo.InvariantCulture))).Append('\n');
        }
        return csv.ToString();
    }

    /// <summary>RFC 4180 quoting; a leading formula character is defused so spreadsheets do not execute a key or task name.</summary>
    private static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@')
        {
            value = "'" + value;
        }
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
