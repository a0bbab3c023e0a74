using System.Net;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;
using Baton.Postgres.Tests.TestSupport;
using Npgsql;

namespace Baton.Postgres.Tests.Gateway;

/// <summary>Two real gateways on one PostgreSQL database: shared keys, a revocation on one refused by the other, costs counted on either.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SharedGatewayTests(PostgresServer server)
{
    [Fact]
    public async Task A_key_made_on_one_gateway_works_on_the_other_until_revoked_there_and_costs_on_either_count_both()
    {
        var connection = await server.CreateDatabaseAsync();
        await using var gateways = await SharedGateways.StartAsync(connection, 2);
        using var masterA = gateways.Client(0, SharedGateways.MasterKey);
        using var masterB = gateways.Client(1, SharedGateways.MasterKey);

        using var created = await masterA.PostAsync("/admin/keys", SharedGateways.Json("""{"name":"shared"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await SharedGateways.ReadJsonAsync(created);
        var (id, secret) = (key.GetProperty("id").GetString()!, key.GetProperty("key").GetString()!);

        using var callerA = gateways.Client(0, secret);
        using var callerB = gateways.Client(1, secret);
        var tokens = 0L;
        foreach (var (caller, n) in new[] { (callerA, 1), (callerB, 2), (callerB, 3) })
        {
            using var answer = await caller.PostAsync("/v1/chat/completions", SharedGateways.Json(SharedGateways.Chat($"question {n}")));
            tokens += (await SharedGateways.ReadJsonAsync(answer)).GetProperty("usage").GetProperty("total_tokens").GetInt64();
        }

        // Each gateway flushes its own queue before reading; the other's rows must be committed already.
        using (var flushB = await callerB.GetAsync("/v1/costs"))
        {
            Assert.Equal(HttpStatusCode.OK, flushB.StatusCode);
        }
        foreach (var reader in new[] { masterA, masterB, callerA })
        {
            using var costs = await reader.GetAsync($"/v1/costs?key={id}&group_by=key");
            var total = (await SharedGateways.ReadJsonAsync(costs)).GetProperty("total");
            Assert.Equal(3, total.GetProperty("requests").GetInt64());
            Assert.Equal(tokens, total.GetProperty("prompt_tokens").GetInt64() + total.GetProperty("completion_tokens").GetInt64());
            Assert.True(total.GetProperty("cost_usd").GetDecimal() > 0);
        }
        // The rows are in PostgreSQL, not in either gateway's file.
        Assert.Equal(3L, await ScalarAsync(connection, $"SELECT count(*) FROM ledger WHERE api_key = '{id}'"));

        using (var revoked = await masterB.DeleteAsync($"/admin/keys/{id}"))
        {
            Assert.True(revoked.IsSuccessStatusCode);
        }
        // The revocation on B reaches A through LISTEN/NOTIFY within moments; the deadline only bounds a failing test.
        var refusedOnA = await Poll.UntilAsync(async () =>
        {
            using var answer = await callerA.PostAsync("/v1/chat/completions", SharedGateways.Json(SharedGateways.Chat("after")));
            return answer.StatusCode == HttpStatusCode.Unauthorized;
        });
        Assert.True(refusedOnA, "gateway A still accepted a key revoked on gateway B");
        using var onB = await callerB.PostAsync("/v1/chat/completions", SharedGateways.Json(SharedGateways.Chat("after")));
        Assert.Equal(HttpStatusCode.Unauthorized, onB.StatusCode);
        var error = JsonDocument.Parse(await onB.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
