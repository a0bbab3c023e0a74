using System.Text.Json;
using Baton.Cli;
using Baton.Gateway.Tests.Auth;

namespace Baton.Gateway.Tests.Cli;

/// <summary><c>baton keys</c> against a running gateway, with the master key from <c>BATON_MASTER_KEY</c>.</summary>
public sealed class KeysCommandTests
{
    [Fact]
    public async Task Keys_are_created_listed_shown_updated_and_revoked_from_the_command_line()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var url = gateway.BaseUrl;

        var created = await RunAsync(AuthGateway.MasterKey, "keys", "create", "--url", url, "--name", "ci", "--models", "gpt-sim,local-sim",
            "--rpm", "60", "--budget-usd", "2.5", "--budget-period", "daily", "--json");
        Assert.Equal(0, created.Exit);
        var key = JsonDocument.Parse(created.Out).RootElement;
        var id = key.GetProperty("id").GetString()!;
        var secret = key.GetProperty("key").GetString()!;
        Assert.StartsWith("bk-", secret, StringComparison.Ordinal);
        Assert.Equal("daily", key.GetProperty("budget_period").GetString());
        using (var client = gateway.Client(secret))
        {
            (await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim")))).EnsureSuccessStatusCode();
        }

        var listed = await RunAsync(AuthGateway.MasterKey, "keys", "list", "--url", url);
        Assert.Equal(0, listed.Exit);
        Assert.Contains(id, listed.Out, StringComparison.Ordinal);
        Assert.Contains("60 rpm", listed.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed.Out, StringComparison.Ordinal);

        var updated = await RunAsync(AuthGateway.MasterKey, "keys", "update", id, "--url", url, "--rpm", "5");
        Assert.Equal(0, updated.Exit);
        Assert.Contains("5 rpm", updated.Out, StringComparison.Ordinal);

        var shown = await RunAsync(AuthGateway.MasterKey, "keys", "show", id, "--url", url);
        Assert.Equal(0, shown.Exit);
        Assert.Contains("1 request(s)", shown.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, shown.Out, StringComparison.Ordinal);

        var revoked = await RunAsync(AuthGateway.MasterKey, "keys", "revoke", id, "--url", url);
        Assert.Equal(0, revoked.Exit);
        using (var client = gateway.Client(secret))
        {
            using var refused = await client.GetAsync("/v1/models");
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var withVirtualKey = await RunAsync(secret, "keys", "list", "--url", url);
        Assert.Equal(1, withVirtualKey.Exit);
        Assert.Contains("401", withVirtualKey.Error, StringComparison.Ordinal);
        var withoutKey = await RunAsync(null, "keys", "list", "--url", url);
        Assert.Equal(1, withoutKey.Exit);
        Assert.Contains("BATON_MASTER_KEY", withoutKey.Error, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Out, string Error)> RunAsync(string? masterKey, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = CliConsole.CreatePlain(output, error, new StringReader(""), Directory.GetCurrentDirectory());
        console.Environment = name => name == "BATON_MASTER_KEY" ? masterKey : null;
        var exit = await BatonCli.RunAsync(args, console);
        return (exit, output.ToString(), error.ToString());
    }
}
