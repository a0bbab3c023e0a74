using System.Net;
using System.Text;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Streaming;

/// <summary>
/// The one stream writer behind the three streaming fronts (Chat Completions, Anthropic Messages, Responses), over
/// real HTTP in front of an upstream that streams on cue: a burst far past the flush threshold arrives whole and in
/// order, a chunk goes out before the upstream sends the next, and a cut stream ends with the front's error event
/// instead of its proper end.
/// </summary>
public sealed class SseStreamWriterTests : IAsyncLifetime
{
    private const int BurstChunks = 600;

    private readonly TaskCompletionSource _clientSawFirst = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _upstream;
    private WebApplication? _gateway;
    private Uri _address = null!;

    public static TheoryData<string> Fronts => new() { "chat", "anthropic", "responses" };

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _upstream = builder.Build();
        _upstream.MapPost("/v1/chat/completions", UpstreamAsync);
        await _upstream.StartAsync();

        var options = new BatonOptions();
        // A cut stream is not resumed here: what the client sees is the writer's end of a cut stream.
        options.Resilience.MaxStreamResumes = 0;
        options.Providers["cue"] = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = GatewayServer.AddressOf(_upstream) + "/v1", ApiKeyEnv = "K" };
        foreach (var model in new[] { "burst", "paced", "cut" })
        {
            options.Models[model] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "cue", Model = model }] };
        }
        _gateway = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, _ => "upstream-key-123");
        await _gateway.StartAsync();
        _address = new Uri(GatewayServer.AddressOf(_gateway));
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }

    private static string Chunk(string content, string? finish = null) =>
        $$"""data: {"id":"chatcmpl-cue","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"{{content}}"},"finish_reason":{{(finish is null ? "null" : $"\"{finish}\"")}}}]}""" + "\n\n";

    private const string Usage = "data: {\"id\":\"chatcmpl-cue\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\n";

    /// <summary>The upstream: what it streams depends on the model it is asked for.</summary>
    private async Task UpstreamAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        http.Response.ContentType = "text/event-stream";
        if (body.Contains("\"burst\"", StringComparison.Ordinal))
        {
            // Everything at once: the gateway has chunk after chunk ready and must send them in bounded pieces.
            var all = new StringBuilder();
            for (var i = 0; i < BurstChunks; i++)
            {
                all.Append(Chunk($"w{i} "));
            }
            all.Append(Chunk("", "stop")).Append(Usage).Append("data: [DONE]\n\n");
            await http.Response.WriteAsync(all.ToString());
        }
        else if (body.Contains("\"paced\"", StringComparison.Ordinal))
        {
            // The rest of the answer comes only once the client has seen the first words: a writer that held them
            // back until more arrived would wait forever.
            await http.Response.WriteAsync(Chunk("first words "));
            await http.Response.Body.FlushAsync();
            await _clientSawFirst.Task.WaitAsync(TimeSpan.FromMinutes(2));
            await http.Response.WriteAsync(Chunk("and the rest") + Chunk("", "stop") + Usage + "data: [DONE]\n\n");
        }
        else
        {
            // The body ends before the answer did (no finish reason, no [DONE]): the stream was cut.
            await http.Response.WriteAsync(Chunk("one ") + Chunk("two ") + Chunk("three "));
        }
    }

    private static HttpRequestMessage Request(string front, string model) => front switch
    {
        "chat" => new(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"go"}]}""", Encoding.UTF8, "application/json"),
        },
        "anthropic" => new(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent($$"""{"model":"{{model}}","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"go"}]}""", Encoding.UTF8, "application/json"),
        },
        _ => new(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent($$"""{"model":"{{model}}","stream":true,"store":false,"input":"go"}""", Encoding.UTF8, "application/json"),
        },
    };

    /// <summary>What each front writes at the proper end of an answer, and at the end of a cut one.</summary>
    private static (string End, string Error) Ends(string front) => front switch
    {
        "chat" => ("data: [DONE]\n\n", "data: {\"error\":"),
        "anthropic" => ("event: message_stop\n", "event: error\n"),
        _ => ("event: response.completed\n", "event: response.failed\n"),
    };

    [Theory]
    [MemberData(nameof(Fronts))]
    public async Task A_burst_past_the_flush_threshold_arrives_whole_in_order_and_ends_properly(string front)
    {
        using var http = new HttpClient { BaseAddress = _address };
        using var response = await http.SendAsync(Request(front, "burst"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var sse = await response.Content.ReadAsStringAsync();

        Assert.True(Encoding.UTF8.GetByteCount(sse) > 4 * 16 * 1024, "the answer is several times the flush threshold");
        var at = 0;
        for (var i = 0; i < BurstChunks; i++)
        {
            at = sse.IndexOf($"w{i} ", at, StringComparison.Ordinal);
            Assert.True(at >= 0, $"w{i} is missing or out of order");
        }
        var (end, error) = Ends(front);
        Assert.Contains(end, sse, StringComparison.Ordinal);
        Assert.DoesNotContain(error, sse, StringComparison.Ordinal);
        // Every event is whole: the body is a sequence of blank-line-separated events.
        Assert.EndsWith("\n\n", sse, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Fronts))]
    public async Task A_chunk_goes_out_before_the_upstream_sends_the_next(string front)
    {
        using var http = new HttpClient { BaseAddress = _address };
        using var response = await http.SendAsync(Request(front, "paced"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = new StreamReader(await response.Content.ReadAsStreamAsync());
        var seen = new StringBuilder();
        while (!seen.ToString().Contains("first words", StringComparison.Ordinal))
        {
            var line = await body.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.NotNull(line);
            seen.AppendLine(line);
        }
        _clientSawFirst.SetResult();
        var rest = await body.ReadToEndAsync();

        Assert.Contains("and the rest", rest, StringComparison.Ordinal);
        Assert.Contains(Ends(front).End, rest.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Fronts))]
    public async Task A_cut_stream_ends_with_the_fronts_error_event_and_never_its_proper_end(string front)
    {
        using var http = new HttpClient { BaseAddress = _address };
        using var response = await http.SendAsync(Request(front, "cut"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var sse = await response.Content.ReadAsStringAsync();

        var (end, error) = Ends(front);
        Assert.Contains("three", sse, StringComparison.Ordinal);
        Assert.Contains(error, sse, StringComparison.Ordinal);
        Assert.Contains("stream_interrupted", sse[sse.IndexOf(error, StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.DoesNotContain(end, sse, StringComparison.Ordinal);
        Assert.True(sse.IndexOf("three", StringComparison.Ordinal) < sse.IndexOf(error, StringComparison.Ordinal));
    }
}
