using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>
/// A client that stops reading for longer than the idle timeout (a phone on a bad network) while a long answer
/// streams: the idle timeout measures the upstream's silence only, so the answer is neither cut nor resumed.
/// </summary>
public sealed class StalledReaderTests : IAsyncLifetime
{
    /// <summary>
    /// Words in the simulated answer: about 8 MB of events, twice what the sockets between gateway and client can
    /// hold (Linux grows a socket's send buffer to 4 MB at most; the client's receive buffer is kept small), so
    /// the gateway has to wait for the stalled reader.
    /// </summary>
    private const int AnswerWords = 50_000;

    private const string CostPrefix = ": x-baton-cost-usd ";

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-stall-").FullName;
    private WebApplication? _simulator;
    private WebApplication? _gateway;
    private int _upstreamCalls;

    private string LedgerPath => Path.Combine(_directory, "baton.db");

    public async Task InitializeAsync()
    {
        _simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0", new SimulatorBehavior { AnswerWords = AnswerWords });
        _simulator.Use(async (HttpContext http, RequestDelegate next) =>
        {
            if (http.Request.Path.StartsWithSegments("/v1/chat/completions"))
            {
                Interlocked.Increment(ref _upstreamCalls);
            }
            await next(http);
        });
        await _simulator.StartAsync();

        var options = GatewayServer.CreateOptions(GatewayServer.AddressOf(_simulator));
        options.Ledger.Path = LedgerPath;
        options.Prices["baton-sim-1"] = new PriceOptions { Input = 1m, Output = 2m };
        // Far shorter than the client's stall below, so a watch that ran while the gateway writes would fire.
        options.Resilience.IdleTimeoutSeconds = 0.5;
        _gateway = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, name => name == "SIM_KEY" ? GatewayServer.Key : null);
        await _gateway.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await GatewayServer.StopAsync(_gateway, _simulator);
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A client whose socket takes only a few kilobytes before the gateway must wait for it to read.</summary>
    private static HttpClient SmallWindowClient(string baseUrl) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };

    [Fact]
    public async Task A_reader_that_stalls_longer_than_the_idle_timeout_gets_the_whole_answer_from_one_upstream_call()
    {
        using var client = SmallWindowClient(GatewayServer.AddressOf(_gateway!));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(
                """{"model":"gpt-sim","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Tell me everything."}]}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Baton-Stream-Cost", "true");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var received = new MemoryStream();
        var buffer = new byte[4096];
        var first = await body.ReadAsync(buffer);
        received.Write(buffer, 0, first);

        // The reader stalls for four idle timeouts while the gateway has more to write than the sockets hold.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await body.CopyToAsync(received);

        var text = Encoding.UTF8.GetString(received.ToArray());
        Assert.DoesNotContain(": baton resumed", text);
        Assert.EndsWith("data: [DONE]", text.TrimEnd());
        var events = text.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal)).Select(l => JsonDocument.Parse(l[6..]).RootElement).ToList();
        Assert.DoesNotContain(events, e => e.TryGetProperty("error", out _));
        var content = string.Concat(events
            .Where(e => e.GetProperty("choices").GetArrayLength() > 0 && e.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out _))
            .Select(e => e.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()));
        Assert.StartsWith("Simulated answer from baton-sim-1", content, StringComparison.Ordinal);
        Assert.EndsWith(".", content, StringComparison.Ordinal);
        Assert.Contains(events, e => e.GetProperty("choices").GetArrayLength() > 0 && e.GetProperty("choices")[0].TryGetProperty("finish_reason", out var f) && f.GetString() == "stop");

        // One upstream call, billed once with the usage it reported.
        Assert.Equal(1, Volatile.Read(ref _upstreamCalls));
        var usage = events.Single(e => e.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object).GetProperty("usage");
        var completionTokens = usage.GetProperty("completion_tokens").GetInt64();
        Assert.True(completionTokens > AnswerWords);
        var cost = decimal.Parse(text.Split('\n').Single(l => l.StartsWith(CostPrefix, StringComparison.Ordinal))[CostPrefix.Length..], CultureInfo.InvariantCulture);

        using var costs = await client.GetAsync("/v1/costs");
        Assert.True(costs.IsSuccessStatusCode);
        using var connection = new SqliteConnection($"Data Source={LedgerPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), MIN(status), MAX(estimated), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_picousd) FROM ledger";
        using var row = command.ExecuteReader();
        Assert.True(row.Read());
        Assert.Equal(1, row.GetInt64(0));
        Assert.Equal(200, row.GetInt64(1));
        Assert.Equal(0, row.GetInt64(2));
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt64(), row.GetInt64(3));
        Assert.Equal(completionTokens, row.GetInt64(4));
        Assert.Equal(cost, row.GetInt64(5) / 1_000_000_000_000m);
    }
}
