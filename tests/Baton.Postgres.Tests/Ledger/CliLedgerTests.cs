using System.Globalization;
using System.Text.Json;
using Baton.Cli;
using Baton.Postgres.Tests.TestSupport;
using Npgsql;

namespace Baton.Postgres.Tests.Ledger;

/// <summary><c>baton chat</c> and <c>baton batch</c>, which build their own services, record their costs in the shared ledger.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CliLedgerTests(PostgresServer server) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-cli-pg-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Baton_chat_and_baton_batch_with_a_postgres_connection_bill_the_shared_ledger()
    {
        var connection = await server.CreateDatabaseAsync();
        var config = Path.Combine(_directory, "baton.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "providers": { "sim": { "type": "simulator" } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "prices": { "baton-sim-1": { "input": 1, "output": 2 } },
              "postgres": { "connection": {{JsonSerializer.Serialize(connection)}} }
            }
            """);
        var input = Path.Combine(_directory, "in.jsonl");
        await File.WriteAllTextAsync(input, string.Concat(Enumerable.Range(0, 3).Select(i =>
            $$$"""{"custom_id":"item-{{{i}}}","body":{"model":"m","user":"item-{{{i}}}","messages":[{"role":"user","content":"question {{{i}}}"}]}}""" + "\n")));

        Assert.Equal(0, await RunAsync("chat", "--config", config, "hello"));
        Assert.Equal(0, await RunAsync("batch", "--config", config, input, "--output", Path.Combine(_directory, "out.jsonl")));

        await using var open = new NpgsqlConnection(connection);
        await open.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT coalesce("user", '(none)'), COUNT(*), bool_and(cost_picousd > 0) FROM ledger GROUP BY 1 ORDER BY 1""", open);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"{reader.GetString(0)}:{reader.GetInt64(1)}:{reader.GetBoolean(2)}"));
        }
        Assert.Equal(["(none):1:True", "item-0:1:True", "item-1:1:True", "item-2:1:True"], rows);
        // No SQLite ledger was created.
        Assert.False(File.Exists(Path.Combine(_directory, "baton.db")));
    }

    private async Task<int> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = CliConsole.CreatePlain(output, error, new StringReader(""), _directory);
        var exit = await BatonCli.RunAsync(args, console);
        Assert.True(exit == 0, $"baton {args[0]}: {error}");
        return exit;
    }
}
