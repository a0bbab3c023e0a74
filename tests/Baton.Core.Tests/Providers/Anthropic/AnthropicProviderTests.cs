using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Core.Tests.Providers.Anthropic;

/// <summary>The Anthropic provider against the simulator's Messages API over real HTTP.</summary>
public sealed class AnthropicProviderTests(SimulatorServer simulator) : SimulatedFaultsContract, IClassFixture<SimulatorServer>
{
    protected override IChatProvider Provider() => TestProviders.Create(ProviderTypes.Anthropic, simulator.BaseUrl + "/v1");

    [Fact]
    public void The_factory_makes_an_anthropic_provider()
    {
        var provider = Provider();
        Assert.IsType<Baton.Providers.Anthropic.AnthropicProvider>(provider);
        Assert.Equal(ProviderTypes.Anthropic, provider.Type);
    }

    [Fact]
    public async Task Complete_returns_an_openai_answer_with_usage()
    {
        using var completion = await Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);

        using var json = JsonDocument.Parse(completion.Body);
        var root = json.RootElement;
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.StartsWith("msg_", root.GetProperty("id").GetString());
        Assert.Equal("baton-sim-1", root.GetProperty("model").GetString());
        var choice = root.GetProperty("choices")[0];
        // The simulator answers from the prompt it read, so the question arriving here proves the translation.
        Assert.Contains("What is Baton?", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.True(completion.Usage.PromptTokens > 0);
        Assert.True(completion.Usage.CompletionTokens > 0);
        Assert.Equal(completion.Usage.PromptTokens, root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task A_small_max_tokens_ends_with_length()
    {
        using var completion = await Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(extra: ",\"max_tokens\":2")), CancellationToken.None);
        using var json = JsonDocument.Parse(completion.Body);
        Assert.Equal("length", json.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(2, completion.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Stream_yields_role_content_finish_and_a_final_usage_only_chunk()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true)), CancellationToken.None);
        var chunks = await AnthropicFixtures.ReadAllAsync(stream);

        Assert.True(chunks.Count > 4);
        Assert.Equal("assistant", AnthropicFixtures.Delta(chunks[0].Json)!["role"]!.GetValue<string>());
        Assert.Contains("What is Baton?", AnthropicFixtures.Join(chunks, d => d["content"]));
        Assert.Equal("stop", chunks[^2].Json["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.True(chunks[^1].UsageOnly);
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.UsageOnly));
        Assert.NotNull(stream.Usage);
        Assert.True(stream.Usage!.Value.PromptTokens > 0);
        Assert.True(stream.Usage!.Value.CompletionTokens > 0);
    }

    [Fact]
    public async Task A_tool_call_comes_back_in_openai_shape_whole_and_streamed()
    {
        using var completion = await Provider().CompleteAsync(TestProviders.Request(TestProviders.WithTool()), CancellationToken.None);
        var json = JsonNode.Parse(completion.Body.Span)!;
        var choice = json["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        var call = choice["message"]!["tool_calls"]![0]!;
        Assert.StartsWith("toolu_", call["id"]!.GetValue<string>());
        Assert.Equal("get_weather", call["function"]!["name"]!.GetValue<string>());
        var whole = JsonNode.Parse(call["function"]!["arguments"]!.GetValue<string>())!;
        Assert.Equal("celsius", whole["unit"]!.GetValue<string>());

        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.WithTool(stream: true)), CancellationToken.None);
        var chunks = await AnthropicFixtures.ReadAllAsync(stream);
        var deltas = chunks.Where(c => !c.UsageOnly).Select(c => AnthropicFixtures.Delta(c.Json)!["tool_calls"]).OfType<JsonNode>().Select(t => t[0]!).ToList();
        Assert.Equal(call["id"]!.GetValue<string>(), deltas[0]["id"]!.GetValue<string>());
        var streamed = JsonNode.Parse(string.Concat(deltas.Select(d => d["function"]!["arguments"]!.GetValue<string>())))!;
        Assert.True(JsonNode.DeepEquals(whole, streamed));
        Assert.Equal("tool_calls", chunks[^2].Json["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tool_result_in_the_history_reaches_the_model()
    {
        const string history = """
            {"model":"m","messages":[{"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"toolu_1","content":"sunny, 21 degrees"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
            """;
        using var completion = await Provider().CompleteAsync(TestProviders.Request(history), CancellationToken.None);
        var choice = JsonNode.Parse(completion.Body.Span)!["choices"]![0]!;
        // After a tool result the simulated model answers in text quoting it, rather than calling the tool again.
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.Contains("sunny, 21 degrees", choice["message"]!["content"]!.GetValue<string>());
    }

    // Beyond the statuses every provider keeps (SimulatedFaultsContract): Anthropic's own 529, and a plain 500.
    [Theory]
    [InlineData("baton-sim-1@529", 529, 503)]
    [InlineData("baton-sim-1@500", 500, 500)]
    public async Task Anthropic_errors_keep_their_upstream_status_and_answer_with_the_one_clients_know(string model, int upstream, int status)
    {
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(), model), CancellationToken.None));

        Assert.Equal(upstream, error.UpstreamStatus);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(ErrorTypes.Upstream, error.Type);
        Assert.Equal("test-anthropic", error.Provider);
        Assert.Contains("(simulated)", error.Message);
        Assert.DoesNotContain(TestProviders.FakeKey, error.Message);
        Assert.Null(error.RetryAfter);
    }

    [Fact]
    public async Task Errors_are_also_raised_when_a_stream_is_asked_for()
    {
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true), "baton-sim-1@529"), CancellationToken.None));
        Assert.Equal(529, error.UpstreamStatus);
        // Clients know Anthropic's 529 "overloaded" as a 503.
        Assert.Equal(503, error.StatusCode);
        Assert.Equal("test-anthropic", error.Provider);
    }

    [Fact]
    public async Task A_stream_cut_by_the_upstream_is_reported_after_the_chunks_it_did_send()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true), "baton-sim-1@cut:3"), CancellationToken.None);
        var content = new List<string>();
        var error = await Assert.ThrowsAsync<BatonException>(async () =>
        {
            await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
            {
                if (AnthropicFixtures.Delta(JsonNode.Parse(chunk.Json.Span)!)?["content"] is { } text)
                {
                    content.Add(text.GetValue<string>());
                }
            }
        });
        Assert.Equal("stream_interrupted", error.Code);
        Assert.Equal(3, content.Count);
        Assert.Null(stream.Usage);
    }
}
