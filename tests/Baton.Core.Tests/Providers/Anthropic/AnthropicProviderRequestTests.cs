using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Core.Tests.Providers.Anthropic;

/// <summary>What the provider puts on the wire, and how it reads the documented answers, seen through a recording handler.</summary>
public sealed class AnthropicProviderRequestTests
{
    private sealed class RecordingHandler(HttpStatusCode status, byte[] answer, string contentType = "application/json") : HttpMessageHandler
    {
        public HttpRequestMessage? Request { get; private set; }

        public JsonNode? Body { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Request = request;
            Body = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken));
            var content = new ByteArrayContent(answer);
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            return new HttpResponseMessage(status) { Content = content };
        }
    }

    private static IChatProvider Provider(RecordingHandler handler)
    {
        var options = new ProviderOptions { Type = ProviderTypes.Anthropic, ApiKeyEnv = "TEST_KEY" };
        options.Headers["anthropic-beta"] = "prompt-caching-2024-07-31";
        var factory = new ProviderFactory(new HttpClient(handler), TimeProvider.System, new SecretRedactor(), name => name == "TEST_KEY" ? TestProviders.FakeKey : null);
        return factory.Create("test-anthropic", options, new RequestDefaults { TimeoutSeconds = 10 });
    }

    [Fact]
    public async Task The_request_goes_to_the_default_messages_url_with_key_version_and_configured_headers()
    {
        var handler = new RecordingHandler(HttpStatusCode.OK, AnthropicFixtures.Read("messages-response.json"));
        using var completion = await Provider(handler).CompleteAsync(TestProviders.Request(TestProviders.Simple(), "claude-3-7-sonnet-20250219"), CancellationToken.None);

        var request = handler.Request!;
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("https://api.anthropic.com/v1/messages", request.RequestUri!.ToString());
        Assert.Equal(TestProviders.FakeKey, request.Headers.GetValues("x-api-key").Single());
        Assert.Equal("2023-06-01", request.Headers.GetValues("anthropic-version").Single());
        Assert.Equal("prompt-caching-2024-07-31", request.Headers.GetValues("anthropic-beta").Single());
        Assert.Null(request.Headers.Authorization);

        var body = handler.Body!;
        Assert.Equal("claude-3-7-sonnet-20250219", body["model"]!.GetValue<string>());
        Assert.Equal("Be brief.", body["system"]!.GetValue<string>());
        Assert.Equal("What is Baton?", body["messages"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Null(body["stream"]);

        Assert.Equal(TokenUsage.Of(2095, 503), completion.Usage);
        Assert.Equal("Hi! My name is Claude.", JsonNode.Parse(completion.Body.Span)!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_streamed_request_asks_for_events_and_reads_the_documented_stream()
    {
        var handler = new RecordingHandler(HttpStatusCode.OK, AnthropicFixtures.Read("stream-text.sse"), "text/event-stream");
        await using var stream = await Provider(handler).StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true)), CancellationToken.None);
        var chunks = await AnthropicFixtures.ReadAllAsync(stream);

        Assert.True(handler.Body!["stream"]!.GetValue<bool>());
        Assert.Contains(handler.Request!.Headers.Accept, a => a.MediaType == "text/event-stream");
        Assert.Equal("Hello!", AnthropicFixtures.Join(chunks, d => d["content"]));
        Assert.Equal(TokenUsage.Of(25, 15), stream.Usage);
    }

    [Theory]
    [InlineData("error-529-overloaded.json", 529, 503, "Overloaded")]
    [InlineData("error-404.json", 404, 404, "The requested resource could not be found.")]
    public async Task Documented_error_bodies_give_their_message(string fixture, int upstream, int status, string message)
    {
        var handler = new RecordingHandler((HttpStatusCode)upstream, AnthropicFixtures.Read(fixture));
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider(handler).CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None));

        Assert.Equal(upstream, error.UpstreamStatus);
        Assert.Equal(status, error.StatusCode);
        Assert.EndsWith(message, error.Message);
    }

    [Fact]
    public async Task An_error_object_inside_a_200_is_a_failure_not_an_empty_answer()
    {
        var handler = new RecordingHandler(HttpStatusCode.OK, AnthropicFixtures.Read("error-529-overloaded.json"));
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider(handler).CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None));
        Assert.Equal(502, error.StatusCode);
        Assert.Contains("Overloaded", error.Message);
    }

    [Fact]
    public async Task A_key_echoed_back_by_the_upstream_is_redacted()
    {
        var echo = System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key {{{TestProviders.FakeKey}}}"}}""");
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider(new RecordingHandler(HttpStatusCode.Unauthorized, echo)).CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None));
        Assert.Equal(ErrorTypes.Authentication, error.Type);
        Assert.DoesNotContain(TestProviders.FakeKey, error.Message);
        Assert.Contains("invalid x-api-key", error.Message);
    }
}
