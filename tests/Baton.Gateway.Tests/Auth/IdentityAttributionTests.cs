using System.Net;

namespace Baton.Gateway.Tests.Auth;

/// <summary>The caller's key id, user, project and tags reach the ledger on every path, resumed streams included.</summary>
public sealed class IdentityAttributionTests
{
    [Fact]
    public async Task A_stream_resumed_on_another_deployment_bills_both_parts_to_the_same_caller()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (id, secret) = await gateway.CreateKeyAsync();
        using var client = gateway.Client(secret);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = AuthGateway.Json(AuthGateway.Chat("resume-sim", "tell me a long story", ",\"stream\":true,\"user\":\"ana\",\"metadata\":{\"project_id\":\"atlas\"}")),
        };
        request.Headers.Add("X-Baton-Tags", "team-a, nightly");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains(": baton resumed the stream", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var rows = await gateway.LedgerRowsAsync();
        Assert.Equal(2, rows.Count);
        Assert.Equal(["sim-http/baton-sim-1@cut:3", "sim-local/baton-sim-1"], rows.Select(r => r.Deployment));
        Assert.Equal([false, true], rows.Select(r => r.Continuation));
        Assert.All(rows, row =>
        {
            Assert.Equal(id, row.ApiKey);
            Assert.Equal("ana", row.User);
            Assert.Equal("atlas", row.Project);
            Assert.Equal("team-a,nightly", row.Tags);
        });
    }

    [Fact]
    public async Task A_cache_hit_and_a_pipeline_step_carry_the_caller()
    {
        await using var gateway = await AuthGateway.StartAsync(configure: o => o.Cache = new Configuration.CacheOptions { Mode = Configuration.CacheModes.On, Store = "memory" });
        var (id, secret) = await gateway.CreateKeyAsync();
        using var client = gateway.Client(secret);

        for (var i = 0; i < 2; i++)
        {
            using var chat = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim", "same question", ",\"user\":\"ana\"")));
            Assert.True(chat.StatusCode == HttpStatusCode.OK, await chat.Content.ReadAsStringAsync());
            Assert.Equal(i == 0 ? "miss" : "hit", chat.Headers.GetValues("x-baton-cache").Single());
        }
        using var run = await client.PostAsync("/v1/pipelines/echo/runs", AuthGateway.Json("""{"input":{"text":"hi"}}"""));
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);

        var rows = await gateway.LedgerRowsAsync();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, row => Assert.Equal(id, row.ApiKey));
        Assert.Equal(["ana", "ana", null], rows.Select(r => r.User));
    }
}
