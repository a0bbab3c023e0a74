using System.Globalization;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace Baton.Gateway.Tests.Batching.Jobs;

/// <summary>
/// A real <c>baton serve</c> killed with SIGKILL in the middle of a batch, then started again on the same files: every
/// item is answered exactly once in the output and has exactly one ledger row.
/// </summary>
public sealed class BatchJobsKilledProcessTests : IDisposable
{
    private const int Items = 80;

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-batchkill-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_gateway_killed_mid_batch_answers_every_item_once_and_bills_each_once_after_it_starts_again()
    {
        // Each answer takes 200 ms, four at a time: the batch runs for about four seconds.
        await File.WriteAllTextAsync(Path.Combine(_directory, "baton.json"), """
            {
              "providers": { "sim": { "type": "simulator", "simulator": { "latencyMs": 200 } } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "prices": { "baton-sim-1": { "input": 1, "output": 2 } },
              "ledger": { "path": "baton.db", "batchSize": 20 },
              "batch": { "jobsDatabase": "jobs.db", "maxConcurrency": 4 }
            }
            """);
        // Each item names itself in `user`, which the ledger records: its rows can be counted per item.
        var input = string.Concat(Enumerable.Range(0, Items).Select(i =>
            $$$"""{"custom_id":"item-{{{i}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"m","user":"item-{{{i}}}","messages":[{"role":"user","content":"question {{{i}}}"}]}}""" + "\n"));

        string batchId;
        int answeredBeforeKill;
        await using (var first = await BatonServeProcess.StartAsync(_directory, "baton.json"))
        {
            batchId = await BatchesApi.CreateBatchAsync(first.Http, input);
            await BatchesApi.WaitForAsync(first.Http, batchId, batch => BatchesApi.Completed(batch) >= 12);
            await first.KillAsync();
            answeredBeforeKill = StoredItems();
        }
        Assert.InRange(answeredBeforeKill, 12, Items - 1);

        await using var second = await BatonServeProcess.StartAsync(_directory, "baton.json");
        var done = await BatchesApi.WaitForAsync(second.Http, batchId, batch => batch.GetProperty("status").GetString() != "in_progress");

        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal((Items, 0), (BatchesApi.Completed(done), done.GetProperty("request_counts").GetProperty("failed").GetInt32()));
        Assert.Equal(JsonValueKind.Null, done.GetProperty("error_file_id").ValueKind);
        var output = (await second.Http.GetStringAsync($"/v1/files/{done.GetProperty("output_file_id").GetString()}/content"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(Enumerable.Range(0, Items).Select(i => $"item-{i}"), output.Select(line => line.GetProperty("custom_id").GetString()));
        Assert.All(output, line => Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32()));

        // The rows are committed before the batch is marked completed.
        var rows = LedgerRowsPerItem();
        Assert.Equal(Enumerable.Range(0, Items).Select(i => $"item-{i}").Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        Assert.All(rows, pair => Assert.True(pair.Value == 1, $"{pair.Key} has {pair.Value} ledger rows"));
    }

    private int StoredItems()
    {
        using var connection = Open("jobs.db");
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM batch_items";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private Dictionary<string, long> LedgerRowsPerItem()
    {
        using var connection = Open("baton.db");
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT user, COUNT(*) FROM ledger GROUP BY user";
        using var reader = command.ExecuteReader();
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        while (reader.Read())
        {
            rows[reader.IsDBNull(0) ? "(none)" : reader.GetString(0)] = reader.GetInt64(1);
        }
        return rows;
    }

    private SqliteConnection Open(string file)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_directory, file),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }
}
