using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;
using OpenAI;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>Fallback models and resumed streams, as a client of the gateway sees them.</summary>
public sealed class FailoverTests(GatewayServer gateway) : IClassFixture<GatewayServer>
{
    private ChatClient Client(string model) => new OpenAIClient(
        new ApiKeyCredential("any-client-key"),
        new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") }).GetChatClient(model);

    private static StringContent Body(string model, bool stream = false, string metadata = "") => new(
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}}{{metadata}},"messages":[{"role":"user","content":"tell me about failover"}]}""",
        Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_configured_fallback_answers_and_the_headers_say_so()
    {
        var result = await Client("fallback-sim").CompleteChatAsync([new UserChatMessage("hello")]);

        var headers = result.GetRawResponse().Headers;
        Assert.Equal("local-sim", Header(headers, "x-baton-model"));
        Assert.Equal("fallback-sim", Header(headers, "x-baton-requested-model"));
        Assert.Equal("true", Header(headers, "x-baton-fallback"));
        Assert.Equal("2", Header(headers, "x-baton-attempts"));
        Assert.Contains("hello", result.Value.Content[0].Text);
    }

    [Fact]
    public async Task The_requested_model_answering_is_not_a_fallback()
    {
        var result = await Client("gpt-sim").CompleteChatAsync([new UserChatMessage("hello")]);
        Assert.Equal("false", Header(result.GetRawResponse().Headers, "x-baton-fallback"));
    }

    [Fact]
    public async Task A_request_may_name_its_own_fallbacks_in_a_header()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body("broken-sim") };
        request.Headers.Add("X-Baton-Fallbacks", "gpt-sim, local-sim");
        using var response = await gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gpt-sim", response.Headers.GetValues("x-baton-model").Single());
        Assert.Equal("true", response.Headers.GetValues("x-baton-fallback").Single());
    }

    [Fact]
    public async Task A_request_may_name_its_own_fallbacks_in_metadata()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("broken-sim", metadata: ""","metadata":{"fallbacks":"local-sim"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("local-sim", response.Headers.GetValues("x-baton-model").Single());
    }

    [Fact]
    public async Task An_unknown_fallback_is_a_client_error_naming_it()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("gpt-sim", metadata: ""","metadata":{"fallbacks":"no-such-model"}"""));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("metadata.fallbacks", error.GetProperty("param").GetString());
        Assert.Contains("no-such-model", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task When_every_deployment_fails_the_error_says_how_many_attempts_were_made()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("broken-sim"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("after 1 attempt(s)", json.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_stream_cut_halfway_is_resumed_on_the_next_deployment_and_completes()
    {
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Client("resume-sim").CompleteChatStreamingAsync([new UserChatMessage("tell me a long story")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.True(text.Length > 0);
    }

    [Fact]
    public async Task A_resumed_stream_announces_the_resume_and_ends_with_done()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("resume-sim", stream: true));
        var sse = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(": baton resumed the stream on sim-local/baton-sim-1", sse);
        Assert.EndsWith("data: [DONE]\n\n", sse);
        Assert.DoesNotContain("\"error\"", sse);
        // The deployment that was cut had already sent three content chunks; they are not sent twice.
        var beforeResume = sse[..sse.IndexOf(": baton resumed", StringComparison.Ordinal)];
        Assert.Equal(3, beforeResume.Split("\"content\"").Length - 1);
    }

    [Fact]
    public async Task A_task_in_a_header_routes_auto_to_its_tier_and_the_headers_say_which()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body("auto") };
        request.Headers.Add("X-Baton-Task", "propose_fix");
        using var response = await gateway.Http.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("gpt-sim", response.Headers.GetValues("x-baton-model").Single());
        Assert.Equal("coding", response.Headers.GetValues("x-baton-tier").Single());
        Assert.Equal("propose_fix", response.Headers.GetValues("X-Baton-Task").Single());
    }

    [Fact]
    public async Task An_unknown_task_is_a_400_naming_it()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("auto", metadata: ""","metadata":{"task":"make_coffee"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("unknown_task", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("make_coffee", json.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task When_every_candidate_fails_the_error_lists_each_attempt()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body("broken-sim") };
        request.Headers.Add("X-Baton-Fallbacks", "limited-sim");
        using var response = await gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        var attempts = error.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal("sim-http/baton-sim-1@503", attempts[0].GetProperty("deployment").GetString());
        Assert.Equal(503, attempts[0].GetProperty("upstream_status").GetInt32());
        Assert.Equal("sim-http/baton-sim-1@429:5", attempts[1].GetProperty("deployment").GetString());
        Assert.Equal(429, attempts[1].GetProperty("upstream_status").GetInt32());
        Assert.Contains("after 2 attempt(s)", error.GetProperty("message").GetString());
        Assert.DoesNotContain(GatewayServer.Key, json.RootElement.GetRawText());
    }

    private static string? Header(System.ClientModel.Primitives.PipelineResponseHeaders headers, string name) =>
        headers.TryGetValue(name, out var value) ? value : null;
}
