using System.ClientModel;
using System.Net;
using Baton.Configuration;
using Baton.Gateway.Fronts.Responses;
using Baton.Gateway.Tests.Auth;
using Baton.Responses;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Responses;

namespace Baton.Gateway.Tests.Fronts.Responses;

/// <summary><c>responses.retentionDays</c> on a fake clock: an expired response is gone for reads at once, and purged from the file.</summary>
public sealed class ResponseRetentionTests
{
    [Fact]
    public async Task A_response_past_its_retention_can_no_longer_be_read_or_continued()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero));
        await using var gateway = await AuthGateway.StartAsync(time, options => options.Responses.RetentionDays = 30);
        var client = new ResponsesClient(new ApiKeyCredential(AuthGateway.MasterKey), new ResponsesClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") });
        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions { Model = "gpt-sim", InputItems = { ResponseItem.CreateUserMessageItem("hello") } });

        time.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        ResponseResult stillThere = await client.GetResponseAsync(response.Id);
        Assert.Equal(response.Id, stillThere.Id);

        time.Advance(TimeSpan.FromSeconds(1));
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(response.Id));
        Assert.Equal(404, gone.Status);
        using var http = gateway.Client(AuthGateway.MasterKey);
        using var continued = await http.PostAsync("/v1/responses", AuthGateway.Json($$"""{"model":"gpt-sim","input":"more","previous_response_id":"{{response.Id}}"}"""));
        Assert.Equal(HttpStatusCode.NotFound, continued.StatusCode);
    }

    [Fact]
    public async Task The_purge_deletes_what_is_past_the_retention_and_keeps_the_rest()
    {
        var directory = Directory.CreateTempSubdirectory("baton-retention-").FullName;
        try
        {
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero));
            var options = new BatonOptions { Responses = new ResponsesOptions { RetentionDays = 2 } };
            using var store = new SqliteResponseStore(Path.Combine(directory, "baton.db"));
            await store.SaveAsync(new StoredResponse("resp_old", null, "m", time.GetUtcNow() - TimeSpan.FromDays(3), "[]", "{}"), CancellationToken.None);
            await store.SaveAsync(new StoredResponse("resp_new", null, "m", time.GetUtcNow() - TimeSpan.FromDays(1), "[]", "{}"), CancellationToken.None);
            var service = new ResponseRetentionService(store, options, time, NullLogger<ResponseRetentionService>.Instance);

            Assert.Equal(TimeSpan.FromHours(1), service.Interval);
            Assert.Equal(1, await service.PurgeOnceAsync(CancellationToken.None));
            Assert.Null(await store.GetAsync("resp_old", CancellationToken.None));
            Assert.NotNull(await store.GetAsync("resp_new", CancellationToken.None));

            time.Advance(TimeSpan.FromDays(1));
            Assert.Equal(0, await service.PurgeOnceAsync(CancellationToken.None));
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(1, await service.PurgeOnceAsync(CancellationToken.None));
            Assert.Null(await store.GetAsync("resp_new", CancellationToken.None));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_retention_shorter_than_an_hour_is_purged_that_often()
    {
        var options = new BatonOptions { Responses = new ResponsesOptions { RetentionDays = 0.01 } };
        var service = new ResponseRetentionService(new NoStore(), options, TimeProvider.System, NullLogger<ResponseRetentionService>.Instance);
        Assert.Equal(TimeSpan.FromDays(0.01), service.Interval);
    }

    private sealed class NoStore : IResponseStore
    {
        public ValueTask SaveAsync(StoredResponse response, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<StoredResponse?> GetAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<int> PurgeAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
