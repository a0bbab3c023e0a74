using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;

namespace Baton.Core.Tests.Providers.Ollama;

/// <summary>The Ollama provider against the simulator's <c>/api/chat</c>, over real HTTP.</summary>
public sealed class OllamaProviderTests(SimulatorServer simulator) : SimulatedFaultsContract, IClassFixture<SimulatorServer>
{
    protected override Baton.Providers.IChatProvider Provider() => Provider("");

    private Baton.Providers.IChatProvider Provider(string suffix) => TestProviders.Create(ProviderTypes.Ollama, simulator.BaseUrl + suffix);

    private static async Task<List<JsonElement>> ReadChunksAsync(Baton.Providers.ProviderStream stream) =>
        (await TestProviders.ReadAllAsync(stream)).Select(json => JsonDocument.Parse(json).RootElement.Clone()).ToList();

    [Theory]
    [InlineData("")]
    [InlineData("/v1")]
    public async Task Complete_returns_a_chat_completion_with_usage(string baseUrlSuffix)
    {
        using var completion = await Provider(baseUrlSuffix).CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);

        using var json = JsonDocument.Parse(completion.Body);
        Assert.Equal("chat.completion", json.RootElement.GetProperty("object").GetString());
        Assert.Equal("baton-sim-1", json.RootElement.GetProperty("model").GetString());
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Contains("What is Baton?", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.True(completion.Usage.PromptTokens > 0);
        Assert.True(completion.Usage.CompletionTokens > 0);
    }

    [Fact]
    public async Task Max_tokens_reaches_ollama_as_num_predict()
    {
        using var completion = await Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(extra: ",\"max_tokens\":3")), CancellationToken.None);

        using var json = JsonDocument.Parse(completion.Body);
        Assert.Equal("length", json.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(3, completion.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Stream_gives_openai_chunks_ending_with_usage()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true)), CancellationToken.None);
        var chunks = await ReadChunksAsync(stream);

        Assert.True(chunks.Count > 4);
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var text = string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("content", out _))
            .Select(d => d.GetProperty("content").GetString()));
        Assert.Contains("What is Baton?", text);
        Assert.Equal("stop", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.NotNull(stream.Usage);
        Assert.True(stream.Usage!.Value.CompletionTokens > 0);
    }

    [Fact]
    public async Task A_streamed_tool_call_comes_back_in_openai_shape()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.WithTool(stream: true)), CancellationToken.None);
        var chunks = await ReadChunksAsync(stream);

        var call = chunks.Select(c => c.GetProperty("choices")).Where(c => c.GetArrayLength() > 0)
            .Select(c => c[0].GetProperty("delta")).Single(d => d.TryGetProperty("tool_calls", out _)).GetProperty("tool_calls")[0];
        Assert.Equal("call_0", call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        using var arguments = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!);
        Assert.Equal("celsius", arguments.RootElement.GetProperty("unit").GetString());
        Assert.Equal("tool_calls", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task A_tool_call_round_trip_quotes_the_tool_result()
    {
        const string history = """
            {"model":"m","messages":[{"role":"user","content":"Weather in Paris?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
             {"role":"tool","tool_call_id":"call_0","content":"18 degrees"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
            """;
        using var completion = await Provider().CompleteAsync(TestProviders.Request(history), CancellationToken.None);

        using var json = JsonDocument.Parse(completion.Body);
        Assert.Contains("18 degrees", json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task A_complete_answer_in_a_shape_ollama_does_not_send_is_a_502_not_a_crash()
    {
        var upstream = new CapturingHandler(HttpStatusCode.OK, """{"model":"m","message":{"role":"assistant","tool_calls":[{"function":"f"}]},"done":true}"""u8.ToArray());
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            upstream.CreateProvider(ProviderTypes.Ollama, "http://127.0.0.1:11434").CompleteAsync(TestProviders.Request(TestProviders.Simple(), "llama3.2"), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_malformed_response", error.Code);
    }

    [Fact]
    public async Task The_request_goes_to_api_chat_with_the_key_as_bearer_and_stream_stated()
    {
        var upstream = new CapturingHandler(HttpStatusCode.OK, ProviderFixtures.Bytes("ollama", "chat-response.json"));
        var provider = upstream.CreateProvider(ProviderTypes.Ollama, "https://ollama.com/v1");

        using var completion = await provider.CompleteAsync(TestProviders.Request(TestProviders.Simple(), "gpt-oss:120b"), CancellationToken.None);

        Assert.Equal("https://ollama.com/api/chat", upstream.Last.Uri.ToString());
        Assert.Equal("Bearer", upstream.Last.Headers.Authorization?.Scheme);
        Assert.Equal(TestProviders.FakeKey, upstream.Last.Headers.Authorization?.Parameter);
        using var sent = JsonDocument.Parse(upstream.Last.Body);
        Assert.Equal("gpt-oss:120b", sent.RootElement.GetProperty("model").GetString());
        Assert.False(sent.RootElement.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task The_simulator_streams_ndjson_when_the_request_does_not_say_and_lists_its_model()
    {
        using var http = new HttpClient();
        using var content = new StringContent("""{"model":"baton-sim-1","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(simulator.BaseUrl + "/api/chat", content);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var tags = JsonDocument.Parse(await http.GetStringAsync(simulator.BaseUrl + "/api/tags"));

        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        Assert.True(lines.Length > 2);
        using var last = JsonDocument.Parse(lines[^1]);
        Assert.True(last.RootElement.GetProperty("done").GetBoolean());
        Assert.True(last.RootElement.GetProperty("eval_count").GetInt32() > 0);
        Assert.Equal("baton-sim-1", tags.RootElement.GetProperty("models")[0].GetProperty("name").GetString());
    }
}
