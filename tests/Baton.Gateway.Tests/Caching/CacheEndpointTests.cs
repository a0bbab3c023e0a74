using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Caching;

/// <summary>The response cache over real HTTP: headers, directives, stats, purge, and a SQLite file across restarts.</summary>
public sealed class CacheEndpointTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-gateway-cache-").FullName;
    private WebApplication? _simulator;
    private string _simulatorUrl = "";

    public async Task InitializeAsync()
    {
        _simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0");
        await _simulator.StartAsync();
        _simulatorUrl = GatewayServer.AddressOf(_simulator);
    }

    public async Task DisposeAsync()
    {
        await _simulator!.StopAsync();
        await _simulator.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<(WebApplication App, HttpClient Http)> StartGatewayAsync()
    {
        var options = GatewayServer.CreateOptions(_simulatorUrl);
        options.Cache = new CacheOptions { Mode = CacheModes.On, Store = "sqlite", Path = Path.Combine(_directory, "cache.db") };
        var app = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, name => name == "SIM_KEY" ? GatewayServer.Key : null);
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(GatewayServer.AddressOf(app)) });
    }

    private static async Task StopAsync(WebApplication app, HttpClient http)
    {
        http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static HttpRequestMessage Ask(string question, bool stream = false, string? cacheControl = null, string model = "gpt-sim")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{question}}"}]}""",
                Encoding.UTF8, "application/json"),
        };
        if (cacheControl is not null)
        {
            request.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }
        return request;
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();

    [Fact]
    public async Task The_second_question_is_a_hit_with_no_upstream_attempt_and_stats_count_it()
    {
        var (app, http) = await StartGatewayAsync();
        using var first = await http.SendAsync(Ask("What is a cache?"));
        using var second = await http.SendAsync(Ask("What is a cache?"));

        Assert.Equal("miss", Header(first, "x-baton-cache"));
        Assert.Equal("hit", Header(second, "x-baton-cache"));
        Assert.Equal("0", Header(second, "x-baton-attempts"));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());

        using var stats = JsonDocument.Parse(await http.GetStringAsync("/v1/cache/stats"));
        Assert.Equal("on", stats.RootElement.GetProperty("mode").GetString());
        Assert.Equal(1, stats.RootElement.GetProperty("entries").GetInt64());
        Assert.Equal(1, stats.RootElement.GetProperty("hits").GetInt64());
        Assert.Equal(1, stats.RootElement.GetProperty("misses").GetInt64());
        Assert.Equal(0.5, stats.RootElement.GetProperty("hit_rate").GetDouble());
        Assert.True(stats.RootElement.GetProperty("bytes").GetInt64() > 0);
        await StopAsync(app, http);
    }

    [Fact]
    public async Task A_streamed_request_is_replayed_from_the_cache_as_server_sent_events()
    {
        var (app, http) = await StartGatewayAsync();
        using var stored = await http.SendAsync(Ask("Stream me", stream: true));
        var live = await stored.Content.ReadAsStringAsync();
        using var replayed = await http.SendAsync(Ask("Stream me", stream: true));
        var sse = await replayed.Content.ReadAsStringAsync();

        Assert.Equal("miss", Header(stored, "x-baton-cache"));
        Assert.Equal("hit", Header(replayed, "x-baton-cache"));
        Assert.Equal("text/event-stream", replayed.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("data: [DONE]\n\n", sse);
        Assert.Equal(Text(live), Text(sse));
        await StopAsync(app, http);
    }

    [Fact]
    public async Task Cache_control_no_store_bypasses_and_a_bad_ttl_header_is_a_400()
    {
        var (app, http) = await StartGatewayAsync();
        using var bypassed = await http.SendAsync(Ask("Private question", cacheControl: "no-store"));
        Assert.Equal("bypass", Header(bypassed, "x-baton-cache"));

        using var badTtl = Ask("Any question");
        badTtl.Headers.Add("X-Baton-Cache-TTL", "forever");
        using var refused = await http.SendAsync(badTtl);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("X-Baton-Cache-TTL", await refused.Content.ReadAsStringAsync());
        await StopAsync(app, http);
    }

    [Fact]
    public async Task Purging_one_model_keeps_the_others_and_the_file_survives_a_restart()
    {
        var (app, http) = await StartGatewayAsync();
        (await http.SendAsync(Ask("Keep me", model: "gpt-sim"))).Dispose();
        (await http.SendAsync(Ask("Drop me", model: "local-sim"))).Dispose();

        using var purge = await http.DeleteAsync("/v1/cache?model=LOCAL-SIM");
        using var purged = JsonDocument.Parse(await purge.Content.ReadAsStringAsync());
        Assert.Equal(1, purged.RootElement.GetProperty("deleted").GetInt64());
        await StopAsync(app, http);

        var (restarted, again) = await StartGatewayAsync();
        using var kept = await again.SendAsync(Ask("Keep me", model: "gpt-sim"));
        using var dropped = await again.SendAsync(Ask("Drop me", model: "local-sim"));
        Assert.Equal("hit", Header(kept, "x-baton-cache"));
        Assert.Equal("miss", Header(dropped, "x-baton-cache"));
        await StopAsync(restarted, again);
    }

    [Fact]
    public async Task Answers_stored_while_the_file_is_locked_are_in_it_once_the_gateway_has_stopped()
    {
        var (app, http) = await StartGatewayAsync();
        (await http.SendAsync(Ask("Warm-up"))).Dispose();
        using var file = new SqliteConnection($"Data Source={Path.Combine(_directory, "cache.db")};Pooling=False");
        file.Open();
        // Another connection holds the file's write lock: the answers below are served and stored, but the
        // cache's writer waits for the file.
        using (var hold = file.BeginTransaction(deferred: false))
        {
            for (var i = 0; i < 20; i++)
            {
                using var answer = await http.SendAsync(Ask("Question " + i));
                Assert.Equal("miss", Header(answer, "x-baton-cache"));
                using var again = await http.SendAsync(Ask("Question " + i));
                Assert.Equal("hit", Header(again, "x-baton-cache"));
            }
            hold.Rollback();
        }
        http.Dispose();
        // Stopped, not yet disposed: the stop waits until the writer has committed what it had queued.
        await app.StopAsync();

        using var count = file.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM cache_entries";
        Assert.Equal(21L, count.ExecuteScalar());
        await app.DisposeAsync();
    }

    private static string Text(string sse) => string.Concat(sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
        .Where(e => e.StartsWith("data: {", StringComparison.Ordinal))
        .Select(e => JsonDocument.Parse(e[6..]).RootElement.GetProperty("choices"))
        .Where(c => c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out _))
        .Select(c => c[0].GetProperty("delta").GetProperty("content").GetString()));
}
