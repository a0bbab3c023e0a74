using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Hosting;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>Server-sent events as they cross the gateway: framing, usage, cuts and client disconnects.</summary>
public sealed class StreamingTests(GatewayServer gateway) : IClassFixture<GatewayServer>
{
    private static StringContent Body(string model, bool includeUsage) => new(
        $$"""{"model":"{{model}}","stream":true{{(includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "")}},"messages":[{"role":"user","content":"stream please"}]}""",
        Encoding.UTF8, "application/json");

    private static List<string> Events(string sse) =>
        sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e[6..] : e).ToList();

    [Fact]
    public async Task Stream_is_event_stream_ending_with_done_and_a_usage_chunk_when_asked()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("gpt-sim", includeUsage: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("x-baton-provider"));

        var events = Events(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", events[^1]);
        using var usage = JsonDocument.Parse(events[^2]);
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
        Assert.True(usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
        foreach (var chunk in events.SkipLast(1))
        {
            using var json = JsonDocument.Parse(chunk);
            Assert.Equal("chat.completion.chunk", json.RootElement.GetProperty("object").GetString());
        }
    }

    [Theory]
    [InlineData("gpt-sim")]
    [InlineData("local-sim")]
    public async Task Usage_chunk_is_left_out_when_the_client_did_not_ask(string model)
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body(model, includeUsage: false));
        var events = Events(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", events[^1]);
        foreach (var chunk in events.SkipLast(1))
        {
            using var json = JsonDocument.Parse(chunk);
            Assert.Equal(1, json.RootElement.GetProperty("choices").GetArrayLength());
        }
    }

    [Fact]
    public async Task A_stream_that_cannot_be_resumed_ends_with_an_error_event_and_no_done()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("cut-sim", includeUsage: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = Events(await response.Content.ReadAsStringAsync());

        Assert.DoesNotContain("[DONE]", events);
        using var last = JsonDocument.Parse(events[^1]);
        Assert.Equal("stream_interrupted", last.RootElement.GetProperty("error").GetProperty("code").GetString());
        // The only deployment cuts every answer after three chunks: the first try and two resumes each
        // delivered a role chunk and three content chunks before the error.
        Assert.Equal(12, events.Count(e => e.Contains("\"content\"", StringComparison.Ordinal) || e.Contains("\"role\"", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_failure_before_the_first_chunk_is_a_plain_error_response()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("broken-sim", includeUsage: false));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(503, json.RootElement.GetProperty("error").GetProperty("upstream_status").GetInt32());
    }

    [Fact]
    public async Task A_client_that_disconnects_cancels_the_upstream_request()
    {
        // An upstream that streams slowly until its client goes away, and tells when that happened.
        var upstreamCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamBuilder = WebApplication.CreateSlimBuilder();
        upstreamBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        upstreamBuilder.Logging.ClearProviders();
        await using var upstream = upstreamBuilder.Build();
        upstream.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            http.Response.ContentType = "text/event-stream";
            try
            {
                for (var i = 0; ; i++)
                {
                    await http.Response.WriteAsync($$"""data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"t{{i}} "},"finish_reason":null}]}""" + "\n\n", http.RequestAborted);
                    await http.Response.Body.FlushAsync(http.RequestAborted);
                    await Task.Delay(50, http.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                upstreamCancelled.TrySetResult();
            }
        });
        await upstream.StartAsync();

        var options = new BatonOptions();
        options.Providers["endless"] = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = GatewayServer.AddressOf(upstream) + "/v1", ApiKeyEnv = "K" };
        options.Models["endless"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "endless", Model = "m" }] };
        await using var app = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, _ => "key-value-123");
        await app.StartAsync();

        using var client = new HttpClient { BaseAddress = new Uri(GatewayServer.AddressOf(app)) };
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body("endless", includeUsage: false) };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        response.Dispose();

        var finished = await Task.WhenAny(upstreamCancelled.Task, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(upstreamCancelled.Task, finished);
        await app.StopAsync();
        await upstream.StopAsync();
    }
}
