using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Gateway.Endpoints;
using Baton.Gateway.Hosting;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton keys create|list|show|update|revoke --url URL</c>: administers a running gateway's virtual keys
/// through its admin API, with the master key from <c>BATON_MASTER_KEY</c>.
/// </summary>
internal static class KeysCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("keys", "Create, list, show, update and revoke a gateway's virtual keys (master key in BATON_MASTER_KEY).");
        command.Subcommands.Add(CreateKey(console));
        command.Subcommands.Add(List(console));
        command.Subcommands.Add(Show(console));
        command.Subcommands.Add(Update(console));
        command.Subcommands.Add(Revoke(console));
        return command;
    }

    private static Option<string> Url() => new("--url")
    {
        Description = "The gateway's address.",
        DefaultValueFactory = _ => BatonHosts.DefaultGatewayUrl,
    };

    private static Option<bool> JsonOutput() => new("--json") { Description = "Print the gateway's JSON answer as it is." };

    private static Argument<string> KeyId() => new("id") { Description = "The key's id (key_...)." };

    /// <summary>The options of a key's settings, shared by create and update.</summary>
    private sealed class SettingOptions
    {
        public Option<string?> Name { get; } = new("--name") { Description = "A name for people." };
        public Option<string?> Models { get; } = new("--models") { Description = "Models the key may use, comma-separated (default: all)." };
        public Option<int?> Rpm { get; } = new("--rpm") { Description = "Requests per minute." };
        public Option<int?> Tpm { get; } = new("--tpm") { Description = "Tokens per minute." };
        public Option<int?> MaxParallel { get; } = new("--max-parallel") { Description = "Requests in flight at once." };
        public Option<decimal?> BudgetUsd { get; } = new("--budget-usd") { Description = "Spending limit in US dollars per budget period." };
        public Option<string?> BudgetPeriod { get; } = new("--budget-period") { Description = "total, daily or monthly (UTC)." };
        public Option<string?> ExpiresAt { get; } = new("--expires-at") { Description = "When the key stops working, ISO 8601 (e.g. 2026-12-31T23:59:59Z)." };
        public Option<string?> Tags { get; } = new("--tags") { Description = "Tags, comma-separated." };
        public Option<string?> Metadata { get; } = new("--metadata") { Description = "Your own metadata, a JSON object." };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Name, Models, Rpm, Tpm, MaxParallel, BudgetUsd, BudgetPeriod, ExpiresAt, Tags, Metadata })
            {
                command.Options.Add(option);
            }
        }

        /// <summary>The admin API's body: only the settings given; null when <c>--metadata</c> is not a JSON object.</summary>
        public JsonObject? Body(ParseResult parse, CliConsole console)
        {
            var body = new JsonObject();
            void Set(string name, JsonNode? value)
            {
                if (value is not null)
                {
                    body[name] = value;
                }
            }
            static JsonArray? List(string? text) =>
                text is null ? null : new JsonArray([.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => (JsonNode)JsonValue.Create(v))]);
            Set("name", parse.GetValue(Name));
            Set("models", List(parse.GetValue(Models)));
            Set("rpm", parse.GetValue(Rpm));
            Set("tpm", parse.GetValue(Tpm));
            Set("max_parallel", parse.GetValue(MaxParallel));
            Set("budget_usd", parse.GetValue(BudgetUsd));
            Set("budget_period", parse.GetValue(BudgetPeriod));
            Set("expires_at", parse.GetValue(ExpiresAt));
            Set("tags", List(parse.GetValue(Tags)));
            if (parse.GetValue(Metadata) is { } metadata)
            {
                try
                {
                    body["metadata"] = JsonNode.Parse(metadata) as JsonObject ?? throw new JsonException("not an object");
                }
                catch (JsonException ex)
                {
                    console.Error.WriteLine($"baton: --metadata must be a JSON object: {ex.Message}");
                    return null;
                }
            }
            return body;
        }
    }

    private static Command CreateKey(CliConsole console)
    {
        var url = Url();
        var json = JsonOutput();
        var settings = new SettingOptions();
        var command = new Command("create", "Create a virtual key; its secret is shown once.") { url, json };
        settings.AddTo(command);
        command.SetAction((parse, cancellationToken) => SendAsync(console, parse.GetValue(url)!, parse.GetValue(json),
            http => settings.Body(parse, console) is { } body ? http.PostAsJsonAsync("admin/keys", body, cancellationToken) : null,
            key =>
            {
                console.Out.MarkupLine($"Created key [bold]{Markup.Escape(key.Id)}[/]{(key.Name is null ? "" : $" ({Markup.Escape(key.Name)})")}.");
                console.Out.Profile.Out.Writer.WriteLine(key.Key ?? "");
                console.Out.MarkupLine("[yellow]This is the only time the key is shown: store it now.[/]");
            }, cancellationToken));
        return command;
    }

    private static Command List(CliConsole console)
    {
        var url = Url();
        var json = JsonOutput();
        var command = new Command("list", "List the keys (never their secrets).") { url, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var answer = await Call(console, parse.GetValue(url)!, http => http.GetAsync("admin/keys", cancellationToken), cancellationToken);
            if (answer is null)
            {
                return 1;
            }
            if (parse.GetValue(json))
            {
                // Unwrapped, as the gateway wrote it: a console's width must not break the JSON.
                console.Out.Profile.Out.Writer.WriteLine(answer);
                return 0;
            }
            var list = JsonSerializer.Deserialize<KeyListView>(answer, GatewayViews.AdminJson)!;
            var table = new Table().AddColumn("Id").AddColumn("Name").AddColumn("Key").AddColumn("Status").AddColumn("Models")
                .AddColumn("Limits").AddColumn("Budget").AddColumn("Expires");
            foreach (var key in list.Data)
            {
                table.AddRow(Markup.Escape(key.Id), Markup.Escape(key.Name ?? ""), Markup.Escape(key.KeyHint), key.Status,
                    Markup.Escape(key.Models is null ? "all" : string.Join(", ", key.Models)), Limits(key), Budget(key),
                    key.ExpiresAt?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "");
            }
            console.Out.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Show(CliConsole console)
    {
        var url = Url();
        var json = JsonOutput();
        var id = KeyId();
        var command = new Command("show", "Show a key's settings and what it has spent.") { id, url, json };
        command.SetAction((parse, cancellationToken) => SendAsync(console, parse.GetValue(url)!, parse.GetValue(json),
            http => http.GetAsync("admin/keys/" + Uri.EscapeDataString(parse.GetValue(id)!), cancellationToken),
            key => Describe(console, key), cancellationToken));
        return command;
    }

    private static Command Update(CliConsole console)
    {
        var url = Url();
        var json = JsonOutput();
        var id = KeyId();
        var settings = new SettingOptions();
        var command = new Command("update", "Change a key's settings (only those given).") { id, url, json };
        settings.AddTo(command);
        command.SetAction((parse, cancellationToken) => SendAsync(console, parse.GetValue(url)!, parse.GetValue(json),
            http => settings.Body(parse, console) is { } body
                ? http.PatchAsJsonAsync("admin/keys/" + Uri.EscapeDataString(parse.GetValue(id)!), body, cancellationToken)
                : null,
            key => Describe(console, key), cancellationToken));
        return command;
    }

    private static Command Revoke(CliConsole console)
    {
        var url = Url();
        var json = JsonOutput();
        var id = KeyId();
        var command = new Command("revoke", "Revoke a key: refused from the next request on.") { id, url, json };
        command.SetAction((parse, cancellationToken) => SendAsync(console, parse.GetValue(url)!, parse.GetValue(json),
            http => http.DeleteAsync("admin/keys/" + Uri.EscapeDataString(parse.GetValue(id)!), cancellationToken),
            key => console.Out.MarkupLine($"Revoked key [bold]{Markup.Escape(key.Id)}[/]."), cancellationToken));
        return command;
    }

    private static async Task<int> SendAsync(CliConsole console, string gateway, bool json, Func<HttpClient, Task<HttpResponseMessage>?> send,
        Action<KeyView> print, CancellationToken cancellationToken)
    {
        var answer = await Call(console, gateway, send, cancellationToken);
        if (answer is null)
        {
            return 1;
        }
        if (json)
        {
            console.Out.Profile.Out.Writer.WriteLine(answer);
        }
        else
        {
            print(JsonSerializer.Deserialize<KeyView>(answer, GatewayViews.AdminJson)!);
        }
        return 0;
    }

    /// <returns>The answer's body when the gateway accepted the call; null after printing why not.</returns>
    private static async Task<string?> Call(CliConsole console, string gateway, Func<HttpClient, Task<HttpResponseMessage>?> send, CancellationToken cancellationToken)
    {
        var masterKey = console.Environment(GatewayCall.MasterKeyVariable);
        if (string.IsNullOrWhiteSpace(masterKey))
        {
            console.Error.WriteLine($"baton: set {GatewayCall.MasterKeyVariable} to the gateway's master key (the variable its auth.masterKeyEnv names).");
            return null;
        }
        return await GatewayCall.SendAsync(console, gateway, async http =>
        {
            if (send(http) is not { } sending)
            {
                return null;
            }
            using var response = await sending;
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return body;
            }
            console.Error.WriteLine($"baton: the gateway answered {(int)response.StatusCode}: {ErrorMessage(body)}");
            return null;
        }, masterKey.Trim());
    }

    private static string ErrorMessage(string body)
    {
        try
        {
            return JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() ?? body;
        }
        catch (JsonException)
        {
            return body;
        }
    }

    private static void Describe(CliConsole console, KeyView key)
    {
        var table = new Table().AddColumn("Setting").AddColumn("Value");
        void Row(string name, string? value) => table.AddRow(name, Markup.Escape(value ?? ""));
        Row("id", key.Id);
        Row("name", key.Name);
        Row("key", key.KeyHint);
        Row("status", key.Status);
        Row("models", key.Models is null ? "all" : string.Join(", ", key.Models));
        Row("limits", Limits(key));
        Row("budget", Budget(key));
        Row("expires_at", key.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture));
        Row("tags", key.Tags is null ? null : string.Join(", ", key.Tags));
        Row("metadata", key.Metadata?.GetRawText());
        Row("created_at", key.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        Row("revoked_at", key.RevokedAt?.ToString("O", CultureInfo.InvariantCulture));
        if (key.Spend is { } spend)
        {
            Row("spent (all time)", spend.TotalUsd is { } total ? $"{Usd(total)} in {spend.Requests} request(s)" : "no ledger");
            if (spend.Budget is { } budget)
            {
                Row($"spent ({budget.Period})", $"{Usd(budget.SpentUsd)} + {Usd(budget.ReservedUsd)} in flight of {Usd(budget.LimitUsd)}; {Usd(budget.RemainingUsd)} left" +
                    (budget.ResetsAt is { } resets ? $", resets {resets.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC" : ""));
            }
        }
        console.Out.Write(table);
    }

    private static string Limits(KeyView key)
    {
        var parts = new List<string>();
        if (key.Rpm is { } rpm)
        {
            parts.Add($"{rpm} rpm");
        }
        if (key.Tpm is { } tpm)
        {
            parts.Add($"{tpm} tpm");
        }
        if (key.MaxParallel is { } parallel)
        {
            parts.Add($"{parallel} parallel");
        }
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private static string Budget(KeyView key) => key.BudgetUsd is { } usd ? $"{Usd(usd)} {key.BudgetPeriod}" : "none";

    private static string Usd(decimal value) => Baton.Accounting.Ledger.LedgerQuery.FormatUsd(value);
}
