using System.Net;
using System.Text.Json;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Core.Tests.Providers.Azure;

/// <summary>
/// GitHub Models (no <c>apiVersion</c>: bearer key) and Azure AI Inference (<c>apiVersion</c>: <c>api-key</c>
/// header and <c>api-version</c> query), checked on what is actually sent, and the published answers,
/// stream and errors passing through.
/// </summary>
public sealed class AzureInferenceProviderTests(SimulatorServer simulator) : IClassFixture<SimulatorServer>
{
    private const string GitHubModels = "https://models.github.ai/inference";
    private const string AzureEndpoint = "https://my-resource.services.ai.azure.com/models";
    private const string ApiVersion = "2024-05-01-preview";

    private static CapturingHandler Upstream(string fixture, HttpStatusCode status = HttpStatusCode.OK, string contentType = "application/json") =>
        new(status, ProviderFixtures.Bytes("azure", fixture), contentType);

    private static ProviderRequest Request(bool stream = false) =>
        TestProviders.Request(TestProviders.Simple(stream), "openai/gpt-4.1");

    [Fact]
    public async Task GitHub_models_mode_sends_the_key_as_a_bearer_token_to_chat_completions()
    {
        var upstream = Upstream("chat-response.json");
        using var completion = await upstream.CreateProvider(ProviderTypes.Azure, GitHubModels).CompleteAsync(Request(), CancellationToken.None);

        Assert.Equal(GitHubModels + "/chat/completions", upstream.Last.Uri.ToString());
        Assert.Equal(HttpMethod.Post, upstream.Last.Method);
        Assert.Equal("Bearer", upstream.Last.Headers.Authorization?.Scheme);
        Assert.Equal(TestProviders.FakeKey, upstream.Last.Headers.Authorization?.Parameter);
        Assert.False(upstream.Last.Headers.Contains("api-key"));
        using var sent = JsonDocument.Parse(upstream.Last.Body);
        Assert.Equal("openai/gpt-4.1", sent.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Azure_mode_sends_the_key_in_api_key_and_the_version_in_the_query()
    {
        var upstream = Upstream("chat-response.json");
        var provider = upstream.CreateProvider(ProviderTypes.Azure, AzureEndpoint, options => options.ApiVersion = ApiVersion);
        using var completion = await provider.CompleteAsync(Request(), CancellationToken.None);

        Assert.Equal($"{AzureEndpoint}/chat/completions?api-version={ApiVersion}", upstream.Last.Uri.ToString());
        Assert.Equal([TestProviders.FakeKey], upstream.Last.Headers.GetValues("api-key"));
        Assert.Null(upstream.Last.Headers.Authorization);
    }

    [Fact]
    public async Task The_answer_passes_through_with_cached_tokens_counted()
    {
        var upstream = Upstream("chat-response.json");
        using var completion = await upstream.CreateProvider(ProviderTypes.Azure, GitHubModels).CompleteAsync(Request(), CancellationToken.None);

        Assert.Equal(ProviderFixtures.Bytes("azure", "chat-response.json"), completion.Body.ToArray());
        Assert.Equal(TokenUsage.Of(1320, 17, cached: 1152), completion.Usage);
    }

    [Fact]
    public async Task A_tool_call_answer_passes_through()
    {
        var upstream = Upstream("chat-response-tool-call.json");
        using var completion = await upstream.CreateProvider(ProviderTypes.Azure, GitHubModels).CompleteAsync(Request(), CancellationToken.None);

        using var json = JsonDocument.Parse(completion.Body);
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("call_Fq3n8TzkQ0yXl2mVb7cR1sHd", call.GetProperty("id").GetString());
        Assert.Equal("get_current_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(TokenUsage.Of(84, 21), completion.Usage);
    }

    [Fact]
    public async Task The_content_filter_preamble_of_a_stream_is_dropped_and_usage_comes_last()
    {
        var upstream = Upstream("chat-stream.sse", contentType: "text/event-stream");
        await using var stream = await upstream.CreateProvider(ProviderTypes.Azure, GitHubModels).StreamAsync(Request(stream: true), CancellationToken.None);

        var chunks = new List<(JsonElement Json, bool UsageOnly)>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            chunks.Add((JsonDocument.Parse(chunk.Json).RootElement.Clone(), chunk.IsUsageOnly));
        }

        // The preamble (choices: [], id: "", no usage) carries nothing for the client; every chunk forwarded is a real one.
        Assert.Equal(5, chunks.Count);
        Assert.All(chunks, c => Assert.Equal("chatcmpl-DEJgnNRPyTQCzYVeB8duG7wiB4McG", c.Json.GetProperty("id").GetString()));
        Assert.Equal("assistant", chunks[0].Json.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var text = string.Concat(chunks.Select(c => c.Json.GetProperty("choices")).Where(c => c.GetArrayLength() > 0)
            .Select(c => c[0].GetProperty("delta")).Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString()));
        Assert.Equal("It's sunny and 72°F in Boston today.", text);
        Assert.True(chunks[^1].UsageOnly);
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.UsageOnly));
        Assert.Equal(TokenUsage.Of(1320, 17, cached: 1152), stream.Usage);
        using var sent = JsonDocument.Parse(upstream.Last.Body);
        Assert.True(sent.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task The_openai_provider_still_forwards_every_chunk_of_the_same_stream()
    {
        var upstream = Upstream("chat-stream.sse", contentType: "text/event-stream");
        await using var stream = await upstream.CreateProvider(ProviderTypes.OpenAi, "https://api.example.com/v1").StreamAsync(Request(stream: true), CancellationToken.None);

        var chunks = await TestProviders.ReadAllAsync(stream);

        Assert.Equal(6, chunks.Count);
        Assert.Equal(TokenUsage.Of(1320, 17, cached: 1152), stream.Usage);
    }

    [Theory]
    [InlineData("error-401.json", "Resource not accessible by integration")]
    [InlineData("error-401-azure-ai-services.json", "Access denied due to invalid subscription key")]
    public async Task A_401_is_an_authentication_error_with_the_upstream_message(string fixture, string message)
    {
        var upstream = Upstream(fixture, HttpStatusCode.Unauthorized);
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            upstream.CreateProvider(ProviderTypes.Azure, GitHubModels).CompleteAsync(Request(), CancellationToken.None));

        Assert.Equal(401, error.UpstreamStatus);
        Assert.Equal(ErrorTypes.Authentication, error.Type);
        Assert.Equal("test-azure", error.Provider);
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain(TestProviders.FakeKey, error.Message);
    }

    [Fact]
    public async Task A_429_keeps_the_retry_after_the_upstream_asked_for()
    {
        var upstream = Upstream("error-429.json", HttpStatusCode.TooManyRequests);
        upstream.ResponseHeaders["Retry-After"] = "85841";
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            upstream.CreateProvider(ProviderTypes.Azure, GitHubModels).CompleteAsync(Request(), CancellationToken.None));

        Assert.Equal(429, error.UpstreamStatus);
        Assert.Equal(ErrorTypes.RateLimit, error.Type);
        Assert.Equal(TimeSpan.FromSeconds(85841), error.RetryAfter);
        Assert.Contains("UserByModelByDay", error.Message);
    }

    [Theory]
    [InlineData("/inference", null)]
    [InlineData("/models", ApiVersion)]
    public async Task Both_modes_work_against_the_simulator_over_http(string path, string? apiVersion)
    {
        var provider = TestProviders.Create(ProviderTypes.Azure, simulator.BaseUrl + path, options => options.ApiVersion = apiVersion);

        using var completion = await provider.CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);
        await using var stream = await provider.StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true)), CancellationToken.None);
        var chunks = await TestProviders.ReadAllAsync(stream);

        Assert.True(completion.Usage.TotalTokens > 0);
        Assert.True(chunks.Count > 3);
        Assert.NotNull(stream.Usage);
    }
}
