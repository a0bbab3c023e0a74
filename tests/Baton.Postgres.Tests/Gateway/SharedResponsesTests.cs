using System.Net;
using Baton.Postgres.Tests.TestSupport;
using Npgsql;

namespace Baton.Postgres.Tests.Gateway;

/// <summary>Two real gateways on one PostgreSQL database: a response stored through one is continued through the other.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SharedResponsesTests(PostgresServer server)
{
    [Fact]
    public async Task A_response_stored_on_one_gateway_is_continued_read_and_deleted_on_the_other()
    {
        var connection = await server.CreateDatabaseAsync();
        await using var gateways = await SharedGateways.StartAsync(connection, 2);
        using var master = gateways.Client(0, SharedGateways.MasterKey);
        using var created = await master.PostAsync("/admin/keys", SharedGateways.Json("""{"name":"responses"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = (await SharedGateways.ReadJsonAsync(created)).GetProperty("key").GetString()!;
        using var callerA = gateways.Client(0, secret);
        using var callerB = gateways.Client(1, secret);

        using var first = await callerA.PostAsync("/v1/responses", SharedGateways.Json("""{"model":"local-sim","input":"first question"}"""));
        var firstId = (await SharedGateways.ReadJsonAsync(first)).GetProperty("id").GetString()!;
        Assert.Equal(1L, await CountAsync(connection, firstId));

        using var second = await callerB.PostAsync("/v1/responses",
            SharedGateways.Json($$"""{"model":"local-sim","input":"second question","previous_response_id":"{{firstId}}"}"""));
        var secondJson = await SharedGateways.ReadJsonAsync(second);
        var secondId = secondJson.GetProperty("id").GetString()!;
        Assert.Equal(firstId, secondJson.GetProperty("previous_response_id").GetString());

        // The continuation stored on B carries the conversation begun on A: its input items list both questions.
        using var items = await callerA.GetAsync($"/v1/responses/{secondId}/input_items?order=asc");
        var text = (await SharedGateways.ReadJsonAsync(items)).GetRawText();
        Assert.Contains("first question", text);
        Assert.Contains("second question", text);

        using (var deleted = await callerB.DeleteAsync($"/v1/responses/{firstId}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }
        using (var gone = await callerA.GetAsync($"/v1/responses/{firstId}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        Assert.Equal(0L, await CountAsync(connection, firstId));
    }

    private static async Task<long> CountAsync(string connection, string id)
    {
        await using var database = new NpgsqlConnection(connection);
        await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM responses WHERE id = $1", database);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
