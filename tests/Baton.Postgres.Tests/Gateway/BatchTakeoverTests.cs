using System.Text;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;
using Baton.Postgres.Tests.TestSupport;
using Npgsql;

namespace Baton.Postgres.Tests.Gateway;

/// <summary>
/// Two real <c>baton serve</c> processes, each in a folder of its own, on one PostgreSQL database: a batch started on
/// the first, the first killed with SIGKILL in the middle of it, and the second, once the dead gateway's lease has
/// expired, finishes it: every item answered exactly once in the output and billed once in the shared ledger.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BatchTakeoverTests(PostgresServer server) : IDisposable
{
    private const int Items = 80;

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-takeover-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_batch_whose_gateway_is_killed_is_finished_by_the_other_with_each_item_answered_and_billed_once()
    {
        var connection = await server.CreateDatabaseAsync();
        // Each answer takes 600 ms, two at a time: the batch runs for about twenty-four seconds, which leaves the second
        // gateway time to start before the first is killed even on a busy machine; a lease lasts two.
        var config = $$"""
            {
              "providers": { "sim": { "type": "simulator", "simulator": { "latencyMs": 600 } } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "prices": { "baton-sim-1": { "input": 1, "output": 2 } },
              "postgres": { "connection": {{JsonSerializer.Serialize(connection)}} },
              "ledger": { "batchSize": 20 },
              "batch": { "maxConcurrency": 2, "leaseSeconds": 2 }
            }
            """;
        var firstDirectory = Directory.CreateDirectory(Path.Combine(_directory, "first")).FullName;
        var secondDirectory = Directory.CreateDirectory(Path.Combine(_directory, "second")).FullName;
        await File.WriteAllTextAsync(Path.Combine(firstDirectory, "baton.json"), config);
        await File.WriteAllTextAsync(Path.Combine(secondDirectory, "baton.json"), config);
        // Each item names itself in `user`, which the ledger records: its rows can be counted per item.
        var input = string.Concat(Enumerable.Range(0, Items).Select(i =>
            $$$"""{"custom_id":"item-{{{i}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"m","user":"item-{{{i}}}","messages":[{"role":"user","content":"question {{{i}}}"}]}}""" + "\n"));

        await using var first = await BatonServeProcess.StartAsync(firstDirectory, "baton.json");
        var batchId = await BatchesApi.CreateBatchAsync(first.Http, input);
        await BatchesApi.WaitForAsync(first.Http, batchId, batch => BatchesApi.Completed(batch) >= 12);
        // Started once the first runs the batch (holding its lease): the second finds it taken, and waits.
        await using var second = await BatonServeProcess.StartAsync(secondDirectory, "baton.json");
        // The file uploaded on the first is read on the second.
        var inputFileId = JsonDocument.Parse(await second.Http.GetStringAsync($"/v1/batches/{batchId}")).RootElement.GetProperty("input_file_id").GetString();
        Assert.Equal(Encoding.UTF8.GetBytes(input), await second.Http.GetByteArrayAsync($"/v1/files/{inputFileId}/content"));
        await first.KillAsync();
        var answeredBeforeKill = await ScalarAsync(connection, "SELECT COUNT(*) FROM batch_items");
        Assert.InRange(answeredBeforeKill, 12L, Items - 1L);

        var done = await BatchesApi.WaitForAsync(second.Http, batchId, batch => batch.GetProperty("status").GetString() != "in_progress");

        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal((Items, 0), (BatchesApi.Completed(done), done.GetProperty("request_counts").GetProperty("failed").GetInt32()));
        Assert.Equal(JsonValueKind.Null, done.GetProperty("error_file_id").ValueKind);
        var output = (await second.Http.GetStringAsync($"/v1/files/{done.GetProperty("output_file_id").GetString()}/content"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(Enumerable.Range(0, Items).Select(i => $"item-{i}"), output.Select(line => line.GetProperty("custom_id").GetString()));
        Assert.All(output, line => Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32()));

        // The batch's rows are committed to the shared ledger before it is marked completed.
        var rows = await LedgerRowsPerItemAsync(connection);
        Assert.Equal(Enumerable.Range(0, Items).Select(i => $"item-{i}").Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        Assert.All(rows, pair => Assert.True(pair.Value == 1, $"{pair.Key} has {pair.Value} ledger rows"));
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT COUNT(*) FROM batch_items WHERE ledger IS NOT NULL"));
    }

    private static async Task<long> ScalarAsync(string connection, string sql)
    {
        await using var open = new NpgsqlConnection(connection);
        await open.OpenAsync();
        await using var command = new NpgsqlCommand(sql, open);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<Dictionary<string, long>> LedgerRowsPerItemAsync(string connection)
    {
        await using var open = new NpgsqlConnection(connection);
        await open.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT coalesce("user", '(none)'), COUNT(*) FROM ledger GROUP BY "user" """, open);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = reader.GetInt64(1);
        }
        return rows;
    }
}
