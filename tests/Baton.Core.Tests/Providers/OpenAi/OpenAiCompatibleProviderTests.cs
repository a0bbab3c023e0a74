using System.Text.Json;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;

namespace Baton.Core.Tests.Providers.OpenAi;

public sealed class OpenAiCompatibleProviderTests(SimulatorServer simulator) : IClassFixture<SimulatorServer>
{
    private Baton.Providers.IChatProvider Provider() => TestProviders.Create(ProviderTypes.OpenAi, simulator.BaseUrl + "/v1");

    [Fact]
    public async Task Complete_returns_the_upstream_answer_with_its_usage()
    {
        using var completion = await Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);

        using var json = JsonDocument.Parse(completion.Body);
        Assert.Equal("chat.completion", json.RootElement.GetProperty("object").GetString());
        Assert.Equal("baton-sim-1", json.RootElement.GetProperty("model").GetString());
        var content = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        Assert.Contains("What is Baton?", content);
        Assert.True(completion.Usage.PromptTokens > 0);
        Assert.True(completion.Usage.CompletionTokens > 0);
        Assert.Equal(completion.Usage.PromptTokens + completion.Usage.CompletionTokens, completion.Usage.TotalTokens);
    }

    [Fact]
    public async Task Stream_relays_chunks_and_taps_usage_even_when_the_client_did_not_ask_for_it()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true)), CancellationToken.None);
        var chunks = new List<(string Json, bool UsageOnly)>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            chunks.Add((System.Text.Encoding.UTF8.GetString(chunk.Json.Span), chunk.IsUsageOnly));
        }

        Assert.True(chunks.Count > 3);
        Assert.True(chunks[^1].UsageOnly, "the rewriter asks upstream for usage, so the last chunk carries it");
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.UsageOnly));
        Assert.NotNull(stream.Usage);
        Assert.True(stream.Usage!.Value.CompletionTokens > 0);
    }

    [Fact]
    public async Task A_stream_is_read_once_and_refuses_to_move_once_disposed_of_which_may_happen_twice()
    {
        // Its readers go back to their pools when it is disposed of: a move after that must not read another stream's.
        // Without a key there is nothing to scrub, so the provider's own stream is the one read.
        var keyless = TestProviders.Create(ProviderTypes.OpenAi, simulator.BaseUrl + "/v1", options => options.ApiKeyEnv = null);
        var stream = await keyless.StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true)), CancellationToken.None);
        var chunks = stream.ReadAsync(CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await chunks.MoveNextAsync());
        Assert.Throws<InvalidOperationException>(() => stream.ReadAsync(CancellationToken.None).GetAsyncEnumerator());

        await chunks.DisposeAsync();
        await stream.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await chunks.MoveNextAsync());
    }

    [Theory]
    [InlineData("baton-sim-1@429:7", 429, "rate_limit_error")]
    [InlineData("baton-sim-1@503", 503, "upstream_error")]
    [InlineData("baton-sim-1@401", 401, "authentication_error")]
    public async Task Upstream_errors_keep_status_and_provider(string model, int status, string type)
    {
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(), model), CancellationToken.None));

        Assert.Equal(status, error.UpstreamStatus);
        Assert.Equal(type, error.Type);
        Assert.Equal("test-openai", error.Provider);
        Assert.DoesNotContain(TestProviders.FakeKey, error.Message);
        if (status == 429)
        {
            Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        }
    }

    [Fact]
    public async Task A_stream_cut_by_the_upstream_is_reported_not_passed_off_as_complete()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true), "baton-sim-1@cut:3"), CancellationToken.None);
        var error = await Assert.ThrowsAsync<BatonException>(() => TestProviders.ReadAllAsync(stream));
        Assert.Equal("stream_interrupted", error.Code);
    }

    [Fact]
    public async Task Malformed_json_from_upstream_is_a_502_not_a_crash()
    {
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(), "baton-sim-1@malformed"), CancellationToken.None));
        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_malformed_response", error.Code);
    }

    [Fact]
    public async Task A_reset_connection_is_reported_as_provider_unavailable()
    {
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(), "baton-sim-1@reset"), CancellationToken.None));
        Assert.Equal("provider_unavailable", error.Code);
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
}
