using System.Text.Json;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;

namespace Baton.Core.Tests.Providers.OpenAi;

public sealed class OpenAiCompatibleProviderTests(SimulatorServer simulator) : SimulatedFaultsContract, IClassFixture<SimulatorServer>
{
    protected override Baton.Providers.IChatProvider Provider() => TestProviders.Create(ProviderTypes.OpenAi, simulator.BaseUrl + "/v1");

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
