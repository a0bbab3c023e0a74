using System.Text.Json;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.Gemini;

namespace Baton.Core.Tests.Providers.Gemini;

/// <summary>The Gemini provider against the simulator's Gemini endpoints, over real HTTP.</summary>
public sealed class GeminiProviderTests(SimulatorServer simulator) : SimulatedFaultsContract, IClassFixture<SimulatorServer>
{
    protected override IChatProvider Provider() => TestProviders.Create(ProviderTypes.Gemini, simulator.BaseUrl + "/v1beta");

    [Fact]
    public async Task Complete_translates_the_answer_and_its_usage()
    {
        using var completion = await Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);

        using var json = JsonDocument.Parse(completion.Body);
        Assert.Equal("chat.completion", json.RootElement.GetProperty("object").GetString());
        Assert.Equal("baton-sim-1", json.RootElement.GetProperty("model").GetString());
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Contains("What is Baton?", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.True(completion.Usage.PromptTokens > 0);
        Assert.True(completion.Usage.CompletionTokens > 0);
        Assert.Equal(completion.Usage.PromptTokens + completion.Usage.CompletionTokens, completion.Usage.TotalTokens);
    }

    [Fact]
    public async Task Reasoning_tokens_survive_the_round_trip()
    {
        using var completion = await Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(), "sim-reasoning-1"), CancellationToken.None);

        Assert.True(completion.Usage.ReasoningTokens > 0);
        Assert.True(completion.Usage.CompletionTokens > completion.Usage.ReasoningTokens);
    }

    [Fact]
    public async Task Tool_calls_come_back_in_openai_shape()
    {
        using var completion = await Provider().CompleteAsync(TestProviders.Request(TestProviders.WithTool()), CancellationToken.None);

        using var json = JsonDocument.Parse(completion.Body);
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        using var arguments = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!);
        Assert.Equal("celsius", arguments.RootElement.GetProperty("unit").GetString());
    }

    [Fact]
    public async Task A_text_stream_ends_with_a_finish_and_a_usage_only_chunk()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true)), CancellationToken.None);
        var chunks = new List<(string Json, bool UsageOnly)>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            chunks.Add((System.Text.Encoding.UTF8.GetString(chunk.Json.Span), chunk.IsUsageOnly));
        }

        Assert.True(chunks.Count > 4);
        Assert.Contains("\"role\":\"assistant\"", chunks[0].Json);
        Assert.Contains("\"finish_reason\":\"stop\"", chunks[^2].Json);
        Assert.True(chunks[^1].UsageOnly);
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.UsageOnly));
        Assert.NotNull(stream.Usage);
        Assert.True(stream.Usage!.Value.CompletionTokens > 0);
    }

    [Fact]
    public async Task A_streamed_tool_call_arrives_whole()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.WithTool(stream: true)), CancellationToken.None);
        var chunks = await TestProviders.ReadAllAsync(stream);

        var call = Assert.Single(chunks, c => c.Contains("\"tool_calls\":[", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(call);
        var function = json.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0].GetProperty("function");
        Assert.Equal("get_weather", function.GetProperty("name").GetString());
        using var arguments = JsonDocument.Parse(function.GetProperty("arguments").GetString()!);
        Assert.Equal("celsius", arguments.RootElement.GetProperty("unit").GetString());
        Assert.Contains("\"finish_reason\":\"tool_calls\"", chunks[^2]);
    }

    [Theory]
    [InlineData("""[{"candidates": []}]""")]
    [InlineData("""{"candidates": [{"content": {"parts": ["hi"]}}]}""")]
    public async Task A_complete_answer_in_a_shape_gemini_does_not_send_is_a_502_not_a_crash(string body)
    {
        var upstream = new Baton.Core.Tests.TestSupport.CapturingHandler(System.Net.HttpStatusCode.OK, System.Text.Encoding.UTF8.GetBytes(body));
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            upstream.CreateProvider(ProviderTypes.Gemini, "https://generativelanguage.googleapis.com/v1beta").CompleteAsync(TestProviders.Request(TestProviders.Simple(), "gemini-2.5-flash"), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_malformed_response", error.Code);
    }

    [Fact]
    public void The_retry_delay_of_a_real_429_is_read_from_its_retry_info()
    {
        Assert.Equal(TimeSpan.FromSeconds(26), GeminiProvider.ReadRetryInfo(GeminiFixtures.Bytes("error-429.json")));
        Assert.Equal(TimeSpan.FromSeconds(45.8379), GeminiProvider.ReadRetryInfo("""{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"45.8379s"}]}}"""u8));
        Assert.Null(GeminiProvider.ReadRetryInfo(GeminiFixtures.Bytes("error-400.json")));
        Assert.Null(GeminiProvider.ReadRetryInfo("not json"u8));
    }

    [Fact]
    public void A_bad_key_is_an_invalid_request_naming_the_provider_and_not_the_key()
    {
        var redactor = new SecretRedactor();
        redactor.Add(TestProviders.FakeKey);

        var error = UpstreamErrors.FromResponse("test-gemini", 400, GeminiFixtures.Bytes("error-400.json"), null, redactor);

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("upstream_invalid_request", error.Code);
        Assert.Equal("test-gemini", error.Provider);
        Assert.Contains("Provider 'test-gemini'", error.Message);
        Assert.Contains("API key not valid", error.Message);
        Assert.DoesNotContain(TestProviders.FakeKey, error.Message);
    }

    [Fact]
    public async Task The_key_goes_in_x_goog_api_key_and_the_model_in_the_path()
    {
        var handler = new CapturingHandler();
        var context = new ProviderContext
        {
            Name = "test-gemini",
            Options = new ProviderOptions { Type = ProviderTypes.Gemini },
            BaseUrl = "https://generativelanguage.googleapis.com/v1beta",
            ApiKey = TestProviders.FakeKey,
            Http = new HttpClient(handler),
            Time = TimeProvider.System,
            Timeout = TimeSpan.FromSeconds(5),
            Redactor = new SecretRedactor(),
        };

        using var completion = await new GeminiProvider(context).CompleteAsync(TestProviders.Request(TestProviders.Simple(), "gemini-2.5-flash"), CancellationToken.None);
        await using (await new GeminiProvider(context).StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true), "gemini-2.5-flash"), CancellationToken.None))
        {
        }

        Assert.Equal("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", handler.Requests[0].Url);
        Assert.Equal("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", handler.Requests[1].Url);
        Assert.All(handler.Requests, r => Assert.Equal(TestProviders.FakeKey, r.Key));
        Assert.All(handler.Requests, r => Assert.False(r.HasAuthorization));
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public List<(string Url, string? Key, bool HasAuthorization)> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add((request.RequestUri!.ToString(), request.Headers.TryGetValues("x-goog-api-key", out var keys) ? keys.Single() : null, request.Headers.Authorization is not null));
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK)
            {
                Content = new ByteArrayContent(GeminiFixtures.Bytes("generate-response-basic.json")),
            });
        }
    }
}
