using System.Net;
using System.Text.Json;
using Baton.Gateway.Tests.Auth;

namespace Baton.Gateway.Tests.Fronts;

/// <summary>
/// <c>/v1/messages</c> on the wire: answers and streams against the examples of Anthropic's API reference, Baton's
/// refusals in Anthropic's error shape, cut and resumed streams, and the ledger rows of Messages requests.
/// </summary>
public sealed class AnthropicHttpTests(AnthropicGateway server) : IClassFixture<AnthropicGateway>
{
    public static TheoryData<string> Models => new("claude", "gpt");

    private const string Tools = ""","tools":[{"name":"get_weather","description":"Current weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}]""";

    private static string Body(string model, string question, bool stream = false, string extra = "") =>
        $$"""{"model":"{{model}}","max_tokens":200,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{question}}"}]{{extra}}}""";

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PostAsync(string body, string? key = null, string path = "/v1/messages")
    {
        using var client = server.Gateway.Client(key ?? AuthGateway.MasterKey, apiKeyHeader: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = AuthGateway.Json(body) };
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task A_message_has_the_shape_of_the_api_reference_example(string model)
    {
        var (status, body, _) = await PostAsync(Body(model, "Shape please"));
        Assert.Equal(HttpStatusCode.OK, status);
        AnthropicWire.AssertShape(AnthropicWire.GoldenJson("message.json"), JsonDocument.Parse(body).RootElement);

        (status, body, _) = await PostAsync(Body(model, "Weather in Rome?", extra: Tools));
        Assert.Equal(HttpStatusCode.OK, status);
        var golden = AnthropicWire.GoldenJson("message-tool-use.json");
        var actual = JsonDocument.Parse(body).RootElement;
        // The simulator calls the tool without words first; the tool_use block is what the example is checked for.
        AnthropicWire.AssertShape(golden.GetProperty("content")[1], actual.GetProperty("content")[0]);
        Assert.Equal("tool_use", actual.GetProperty("stop_reason").GetString());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task A_stream_has_the_event_sequence_of_the_api_reference_examples(string model)
    {
        var (status, body, response) = await PostAsync(Body(model, "Stream shape please", stream: true));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = AnthropicWire.Events(body);
        AnthropicWire.AssertSequence(events);
        AnthropicWire.AssertEventShapes(AnthropicWire.Events(AnthropicWire.Golden("stream-text.sse")), events);
        var usage = events.Single(e => e.Event == "message_delta").Data.GetProperty("usage");
        Assert.True(usage.GetProperty("input_tokens").GetInt32() > 0);
        Assert.True(usage.GetProperty("output_tokens").GetInt32() > 0);
        Assert.Equal(0, usage.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("cache_creation_input_tokens").GetInt32());

        (status, body, _) = await PostAsync(Body(model, "Weather in Lima?", stream: true, extra: Tools));
        Assert.Equal(HttpStatusCode.OK, status);
        events = AnthropicWire.Events(body);
        AnthropicWire.AssertSequence(events);
        var golden = AnthropicWire.Events(AnthropicWire.Golden("stream-tool-use.sse"))
            .Where(e => !(e.Data.TryGetProperty("content_block", out var b) && b.GetProperty("type").GetString() == "text") &&
                        !(e.Data.TryGetProperty("delta", out var d) && d.TryGetProperty("type", out var t) && t.GetString() == "text_delta"))
            .ToList();
        AnthropicWire.AssertEventShapes(golden, events);
        var arguments = string.Concat(events.Where(e => e.Event == "content_block_delta").Select(e => e.Data.GetProperty("delta").GetProperty("partial_json").GetString()));
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(arguments).RootElement.GetProperty("location").ValueKind);
    }

    [Fact]
    public async Task A_thinking_stream_has_the_event_sequence_of_the_api_reference_example()
    {
        var (status, body, _) = await PostAsync(Body("claude-thinking", "Think in a stream", stream: true,
            extra: ""","thinking":{"type":"enabled","budget_tokens":1024}""").Replace("\"max_tokens\":200", "\"max_tokens\":2000", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, status);
        var events = AnthropicWire.Events(body);
        AnthropicWire.AssertSequence(events);
        AnthropicWire.AssertEventShapes(AnthropicWire.Events(AnthropicWire.Golden("stream-thinking.sse")), events);
        // The thinking block comes first and is closed before the text begins, its signature last.
        var thinking = events.Where(e => e.Data.TryGetProperty("index", out var i) && i.GetInt32() == 0).ToList();
        Assert.Equal("thinking", thinking[0].Data.GetProperty("content_block").GetProperty("type").GetString());
        Assert.Equal("signature_delta", thinking[^2].Data.GetProperty("delta").GetProperty("type").GetString());
        Assert.Equal("content_block_stop", thinking[^1].Event);
    }

    [Fact]
    public async Task Count_tokens_and_errors_have_the_shape_of_the_api_reference_examples()
    {
        var (status, body, response) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"count"}]}""", path: "/v1/messages/count_tokens");
        Assert.Equal(HttpStatusCode.OK, status);
        AnthropicWire.AssertShape(AnthropicWire.GoldenJson("count-tokens.json"), JsonDocument.Parse(body).RootElement);
        Assert.Equal("upstream", response.Headers.GetValues("x-baton-token-count").Single());

        (status, body, _) = await PostAsync(Body("no-such-model", "hi"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        AnthropicWire.AssertShape(AnthropicWire.GoldenJson("error.json"), JsonDocument.Parse(body).RootElement);
    }

    [Theory]
    [InlineData("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"claude","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"claude","max_tokens":10,"messages":[]}""", "messages")]
    [InlineData("""{"model":"claude","max_tokens":10,"messages":[{"role":"tool","content":"hi"}]}""", "messages.0.role")]
    [InlineData("""{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/tiff","data":"AA=="}}]}]}""", "messages.0.content.0.source.media_type")]
    [InlineData("""{"model":"claude","max_tokens":10,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":"x"}]}]}""", "messages.0.content.0.input")]
    [InlineData("""{"model":"claude","max_tokens":10,"tool_choice":{"type":"sometimes"},"messages":[{"role":"user","content":"hi"}]}""", "tool_choice.type")]
    [InlineData("""{"model":"claude","max_tokens":10,"temperature":1.5,"messages":[{"role":"user","content":"hi"}]}""", "temperature")]
    [InlineData("""{"model":"claude","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"hi"}]}""", "thinking.budget_tokens")]
    [InlineData("""{"model":"claude","max_tokens":10,"tools":[{"name":"f"}],"messages":[{"role":"user","content":"hi"}]}""", "tools.0.input_schema")]
    [InlineData("""{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}""", null)]
    public async Task Bad_input_is_a_400_invalid_request_error_naming_the_parameter(string body, string? param)
    {
        var (status, text, _) = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        var error = root.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        if (param is not null)
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }
    }

    [Fact]
    public async Task A_request_without_a_key_is_a_401_in_anthropics_shape()
    {
        using var response = await server.Gateway.Anonymous.PostAsync("/v1/messages", AuthGateway.Json(Body("claude", "hi")));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("authentication_error", root.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_stream_cut_with_nothing_to_resume_on_ends_with_an_error_event_never_message_stop()
    {
        var (status, body, _) = await PostAsync(Body("claude-cut", "Cut me please", stream: true));

        Assert.Equal(HttpStatusCode.OK, status);
        var events = AnthropicWire.Events(body);
        Assert.Equal("message_start", events[0].Event);
        Assert.Contains(events, e => e.Event == "content_block_delta");
        Assert.Equal("error", events[^1].Event);
        Assert.Equal("error", events[^1].Data.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(events[^1].Data.GetProperty("error").GetProperty("type").GetString()));
        Assert.DoesNotContain(events, e => e.Event is "message_stop" or "message_delta");
    }

    [Fact]
    public async Task A_cut_stream_resumed_on_another_deployment_ends_properly()
    {
        var (status, body, response) = await PostAsync(Body("claude-resume", "Resume me please", stream: true));

        Assert.Equal(HttpStatusCode.OK, status);
        var events = AnthropicWire.Events(body);
        AnthropicWire.AssertSequence(events);
        Assert.Contains(": baton resumed the stream on p-openai/baton-sim-1", body, StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => e.Event == "error");
        Assert.Equal("p-anthropic", response.Headers.GetValues("x-baton-provider").Single());
        // The three deltas of the cut deployment, then the rest from the one that resumed, in the same text block.
        var comment = body.IndexOf(": baton resumed", StringComparison.Ordinal);
        Assert.Equal(3, AnthropicWire.Events(body[..comment]).Count(e => e.Event == "content_block_delta"));
        Assert.Contains(AnthropicWire.Events(body[comment..]), e => e.Event == "content_block_delta");
        Assert.Single(events, e => e.Event == "content_block_start");
    }

    [Fact]
    public async Task Messages_requests_are_priced_and_recorded_in_the_ledger_under_the_callers_key()
    {
        var (id, secret) = await server.Gateway.CreateKeyAsync("""{"name":"ledger-messages"}""");
        foreach (var (model, stream) in new[] { ("claude", false), ("claude", true), ("gpt", false), ("gpt", true) })
        {
            var (status, text, response) = await PostAsync(Body(model, "Price me", stream, extra: ""","metadata":{"user_id":"end-user-9"}"""), secret);
            Assert.True(status == HttpStatusCode.OK, text);
            if (!stream)
            {
                Assert.True(decimal.Parse(response.Headers.GetValues("x-baton-cost-usd").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
            }
        }

        var rows = (await server.Gateway.LedgerRowsAsync()).Where(r => r.ApiKey == id).ToList();
        Assert.Equal(4, rows.Count);
        Assert.Equal(2, rows.Count(r => r.Deployment == "p-anthropic/baton-sim-1"));
        Assert.Equal(2, rows.Count(r => r.Deployment == "p-openai/baton-sim-1"));
        Assert.All(rows, r => Assert.True(r.Cost > 0));
        Assert.All(rows, r => Assert.Equal("end-user-9", r.User));
    }

    [Fact]
    public async Task Key_limits_and_budgets_refuse_in_anthropics_shape()
    {
        var (_, limited) = await server.Gateway.CreateKeyAsync("""{"rpm":1}""");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Body("claude", "first"), limited)).Status);
        var (status, body, response) = await PostAsync(Body("claude", "second"), limited);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("rate_limit_error", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.NotNull(response.Headers.RetryAfter);

        var (_, poor) = await server.Gateway.CreateKeyAsync("""{"budget_usd":0.0000001}""");
        (status, body, _) = await PostAsync(Body("claude", "too dear"), poor);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Equal("budget_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_key_limited_to_other_models_may_not_count_tokens_with_this_one()
    {
        var (_, secret) = await server.Gateway.CreateKeyAsync("""{"models":["gpt"]}""");
        var (status, body, _) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"count"}]}""", secret, "/v1/messages/count_tokens");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("permission_error", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("type").GetString());

        (status, body, _) = await PostAsync(Body("claude", "not mine"), secret);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("permission_error", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("type").GetString());
    }
}
