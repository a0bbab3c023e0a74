using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Accounting;

/// <summary>
/// Honest counts over real HTTP, with the response cache on and a ledger in a temporary SQLite file: cache hits,
/// client requests and billed attempts apart, a resumed stream's usage, fallbacks within a model, and the
/// filters and groupings of <c>GET /v1/costs</c>.
/// </summary>
public sealed class CostCountsTests : IAsyncLifetime, IDisposable
{
    private const string CostPrefix = ": x-baton-cost-usd ";
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-counts-").FullName;
    private WebApplication? _simulator;
    private WebApplication? _gateway;
    private readonly HttpClient _http = new();

    private string LedgerPath => Path.Combine(_directory, "baton.db");

    public async Task InitializeAsync()
    {
        _simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0");
        await _simulator.StartAsync();
        var options = GatewayServer.CreateOptions(GatewayServer.AddressOf(_simulator));
        options.Ledger.Path = LedgerPath;
        options.Cache = new CacheOptions { Mode = CacheModes.On, Store = "memory" };
        // Every simulated upstream model id, faults included, at $1 in and $2 out per million tokens.
        foreach (var upstream in new[] { "baton-sim-1", "baton-sim-1@503", "baton-sim-1@cut:3" })
        {
            options.Prices[upstream] = new PriceOptions { Input = 1m, Output = 2m };
        }
        _gateway = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, name => name == "SIM_KEY" ? GatewayServer.Key : null);
        await _gateway.StartAsync();
        _http.BaseAddress = new Uri(GatewayServer.AddressOf(_gateway));
    }

    public void Dispose() => _http.Dispose();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await GatewayServer.StopAsync(_gateway, _simulator);
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static HttpRequestMessage Ask(string model, string session, string question, bool stream = false, string? tags = null, string? user = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},{{(stream ? "\"stream_options\":{\"include_usage\":true}," : "")}}{{(user is null ? "" : $"\"user\":\"{user}\",")}}"metadata":{"session_id":"{{session}}"},"messages":[{"role":"user","content":"{{question}}"}]}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Baton-Stream-Cost", "true");
        if (tags is not null)
        {
            request.Headers.Add("X-Baton-Tags", tags);
        }
        return request;
    }

    private async Task<JsonElement> CostsAsync(string query)
    {
        using var response = await _http.GetAsync("/v1/costs" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={LedgerPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static (JsonElement Usage, decimal Cost) StreamUsageAndCost(string sse)
    {
        var lines = sse.Split('\n');
        var usage = lines.Where(l => l.StartsWith("data: {", StringComparison.Ordinal)).Select(l => JsonDocument.Parse(l[6..]).RootElement)
            .Single(c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object).GetProperty("usage");
        var cost = decimal.Parse(lines.Single(l => l.StartsWith(CostPrefix, StringComparison.Ordinal))[CostPrefix.Length..], CultureInfo.InvariantCulture);
        return (usage, cost);
    }

    [Fact]
    public async Task Cache_hits_are_requests_that_cost_nothing_and_their_tokens_are_not_billed_again()
    {
        long billedPrompt;
        using (var first = await _http.SendAsync(Ask("gpt-sim", "hits", "What is a cache hit?")))
        {
            billedPrompt = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt64();
        }
        for (var i = 0; i < 2; i++)
        {
            using var hit = await _http.SendAsync(Ask("gpt-sim", "hits", "What is a cache hit?"));
            Assert.Equal("hit", hit.Headers.GetValues("x-baton-cache").Single());
            Assert.Equal("0", hit.Headers.GetValues("x-baton-cost-usd").Single());
        }
        // A streamed hit carries its cost like a plain one.
        using (var stored = await _http.SendAsync(Ask("gpt-sim", "hits", "Stream a cache hit", stream: true)))
        {
            await stored.Content.ReadAsStringAsync();
        }
        using (var replayed = await _http.SendAsync(Ask("gpt-sim", "hits", "Stream a cache hit", stream: true)))
        {
            Assert.Equal("hit", replayed.Headers.GetValues("x-baton-cache").Single());
            Assert.Contains("\n" + CostPrefix + "0\n", await replayed.Content.ReadAsStringAsync());
        }

        var total = (await CostsAsync("?session_id=hits")).GetProperty("total");
        Assert.Equal(5, total.GetProperty("requests").GetInt64());
        Assert.Equal(3, total.GetProperty("cache_hits").GetInt64());
        Assert.Equal(2, total.GetProperty("attempts").GetInt64());
        Assert.Equal(billedPrompt + Scalar("SELECT prompt_tokens FROM ledger WHERE session = 'hits' AND cached = 0 AND id = (SELECT MAX(id) FROM ledger WHERE session = 'hits' AND cached = 0)"),
            total.GetProperty("prompt_tokens").GetInt64());
    }

    [Fact]
    public async Task A_resumed_stream_is_one_request_of_two_attempts_whose_final_usage_is_everything_billed()
    {
        using var response = await _http.SendAsync(Ask("resume-sim", "resumed", "Tell me a long story about resumed streams", stream: true));
        var (usage, cost) = StreamUsageAndCost(await response.Content.ReadAsStringAsync());

        var total = (await CostsAsync("?session_id=resumed")).GetProperty("total");
        Assert.Equal(1, total.GetProperty("requests").GetInt64());
        Assert.Equal(2, total.GetProperty("attempts").GetInt64());
        Assert.Equal(total.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(total.GetProperty("completion_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(total.GetProperty("cost_usd").GetDecimal(), cost);
        Assert.Equal((usage.GetProperty("prompt_tokens").GetInt64() + (2m * usage.GetProperty("completion_tokens").GetInt64())) / 1_000_000m, cost);
    }

    [Fact]
    public async Task Another_deployment_of_the_model_answering_after_a_failure_is_a_fallback()
    {
        using var response = await _http.SendAsync(Ask("failover-sim", "failover", "Who answers?"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failover-sim", response.Headers.GetValues("x-baton-model").Single());
        Assert.Equal("true", response.Headers.GetValues("x-baton-fallback").Single());
        await CostsAsync("?session_id=failover");
        Assert.Equal(1, Scalar("SELECT fallback FROM ledger WHERE session = 'failover'"));
    }

    [Fact]
    public async Task Costs_filter_by_model_key_user_and_tag_and_group_by_session_provider_and_deployment()
    {
        using (await _http.SendAsync(Ask("gpt-sim", "team-1", "First question for the report", tags: "reports, nightly", user: "alice"))) { }
        using (await _http.SendAsync(Ask("local-sim", "team-2", "Second question for the report", tags: "reports", user: "bob"))) { }

        Assert.Equal(1, (await CostsAsync("?tag=nightly")).GetProperty("total").GetProperty("requests").GetInt64());
        Assert.Equal(2, (await CostsAsync("?tag=reports")).GetProperty("total").GetProperty("requests").GetInt64());
        var alice = await CostsAsync("?user=alice&model=gpt-sim");
        Assert.Equal(1, alice.GetProperty("total").GetProperty("requests").GetInt64());
        Assert.Equal("alice", alice.GetProperty("user").GetString());
        Assert.Equal(0, (await CostsAsync("?user=alice&model=local-sim")).GetProperty("total").GetProperty("requests").GetInt64());
        Assert.Equal(0, (await CostsAsync("?key=key-00000000000000000&tag=reports")).GetProperty("total").GetProperty("requests").GetInt64());

        static string[] Keys(JsonElement report) => report.GetProperty("breakdown").EnumerateArray().Select(g => g.GetProperty("key").GetString()!).Order().ToArray();
        Assert.Equal(["sim-http", "sim-local"], Keys(await CostsAsync("?tag=reports&group_by=provider")));
        Assert.Equal(["sim-http/baton-sim-1", "sim-local/baton-sim-1"], Keys(await CostsAsync("?tag=reports&group_by=deployment")));
        Assert.Equal(["team-1", "team-2"], Keys(await CostsAsync("?tag=reports&group_by=session")));

        using var bad = await _http.GetAsync("/v1/costs?group_by=colour");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("session, provider, deployment", await bad.Content.ReadAsStringAsync());
    }
}
