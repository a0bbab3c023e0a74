using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace Baton.Gateway.Tests.Accounting;

/// <summary>A real <c>baton serve</c> process killed in the middle of load: the ledger loses no committed row and stays readable.</summary>
public sealed class KilledProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-kill-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_killed_gateway_leaves_every_committed_row_in_a_readable_ledger()
    {
        var ledger = Path.Combine(_directory, "baton.db");
        await File.WriteAllTextAsync(Path.Combine(_directory, "baton.json"), """
            {
              "providers": { "sim": { "type": "simulator" } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "prices": { "baton-sim-1": { "input": 1, "output": 2 } },
              "ledger": { "path": "baton.db", "batchSize": 20 }
            }
            """);
        await using var server = await BatonServeProcess.StartAsync(_directory, "baton.json");
        var http = server.Http;
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => AskAsync(http)));
        // GET /v1/costs writes everything queued first: these rows are committed.
        var committed = JsonDocument.Parse(await http.GetStringAsync("/v1/costs")).RootElement.GetProperty("total").GetProperty("requests").GetInt64();
        Assert.Equal(200, committed);

        // More load, and the process dies in the middle of it.
        var load = Enumerable.Range(0, 3000).Select(_ => AskAsync(http)).ToList();
        await Task.WhenAny(Task.WhenAll(load), Task.Delay(300));
        await server.KillAsync();
        await Task.WhenAll(load.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));

        using var connection = new SqliteConnection($"Data Source={ledger};Pooling=False");
        connection.Open();
        Assert.Equal("ok", Scalar(connection, "PRAGMA integrity_check"));
        var rows = Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM ledger"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(rows >= committed, $"{rows} rows after the kill, {committed} committed before it");
        Assert.Equal("0", Scalar(connection, "SELECT COUNT(*) FROM ledger WHERE prompt_tokens <= 0 OR cost_picousd <= 0"));
    }

    private static async Task<HttpStatusCode> AskAsync(HttpClient http)
    {
        using var response = await http.PostAsync("/v1/chat/completions",
            new StringContent("""{"model":"m","messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    private static string Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }
}
