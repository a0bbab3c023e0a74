using System.Text;
using System.Text.Json;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.Ollama;

namespace Baton.Core.Tests.Providers.Ollama;

/// <summary>Ollama's NDJSON streams, from the published examples, read as OpenAI chunks.</summary>
public sealed class OllamaChatStreamTests
{
    private static OllamaChatStream Open(byte[] ndjson) =>
        new("test-ollama", new MemoryStream(ndjson), null, "fallback-model", TimeProvider.System, new SecretRedactor());

    private static async Task<(List<JsonElement> Chunks, List<bool> UsageOnly, TokenUsage? Usage)> ReadAsync(byte[] ndjson)
    {
        await using var stream = Open(ndjson);
        var chunks = new List<JsonElement>();
        var usageOnly = new List<bool>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            chunks.Add(JsonDocument.Parse(chunk.Json).RootElement.Clone());
            usageOnly.Add(chunk.IsUsageOnly);
        }
        return (chunks, usageOnly, stream.Usage);
    }

    private static JsonElement Delta(JsonElement chunk) => chunk.GetProperty("choices")[0].GetProperty("delta");

    private static string? FinishReason(JsonElement chunk) =>
        chunk.GetProperty("choices") is { } choices && choices.GetArrayLength() > 0 ? choices[0].GetProperty("finish_reason").GetString() : null;

    [Fact]
    public async Task Text_arrives_as_role_content_finish_and_usage_chunks()
    {
        var (chunks, usageOnly, usage) = await ReadAsync(ProviderFixtures.Bytes("ollama", "chat-stream.ndjson"));

        Assert.Equal(7, chunks.Count);
        Assert.Equal("assistant", Delta(chunks[0]).GetProperty("role").GetString());
        var text = string.Concat(chunks.Skip(1).Take(4).Select(c => Delta(c).GetProperty("content").GetString()));
        Assert.Equal("The sky is blue", text);
        Assert.Equal("stop", FinishReason(chunks[5]));
        Assert.Equal([false, false, false, false, false, false, true], usageOnly);
        Assert.Equal(0, chunks[6].GetProperty("choices").GetArrayLength());
        Assert.Equal(282, chunks[6].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(TokenUsage.Of(26, 282), usage);
        Assert.All(chunks, c => Assert.Equal(chunks[0].GetProperty("id").GetString(), c.GetProperty("id").GetString()));
        Assert.All(chunks, c => Assert.Equal("llama3.2", c.GetProperty("model").GetString()));
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task A_tool_call_arrives_whole_with_an_id_and_ends_with_tool_calls()
    {
        var (chunks, usageOnly, usage) = await ReadAsync(ProviderFixtures.Bytes("ollama", "chat-stream-tool-call.ndjson"));

        var call = Delta(chunks[1]).GetProperty("tool_calls")[0];
        Assert.Equal(0, call.GetProperty("index").GetInt32());
        Assert.Equal("call_0", call.GetProperty("id").GetString());
        Assert.Equal("get_current_weather", call.GetProperty("function").GetProperty("name").GetString());
        using var arguments = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!);
        Assert.Equal("Toronto", arguments.RootElement.GetProperty("location").GetString());
        Assert.Equal("tool_calls", FinishReason(chunks[^2]));
        Assert.True(usageOnly[^1]);
        Assert.Equal(TokenUsage.Of(214, 41), usage);
    }

    [Fact]
    public async Task Thinking_arrives_as_reasoning_content()
    {
        const string ndjson = """
            {"model":"qwen3","created_at":"2025-05-27T22:54:58Z","message":{"role":"assistant","content":"","thinking":"Let me see."},"done":false}
            {"model":"qwen3","created_at":"2025-05-27T22:54:58Z","message":{"role":"assistant","content":"Yes."},"done":false}
            {"model":"qwen3","created_at":"2025-05-27T22:54:59Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","eval_count":9}
            """;
        var (chunks, _, usage) = await ReadAsync(Encoding.UTF8.GetBytes(ndjson));

        Assert.Equal("Let me see.", Delta(chunks[1]).GetProperty("reasoning_content").GetString());
        Assert.Equal("Yes.", Delta(chunks[2]).GetProperty("content").GetString());
        Assert.Equal("length", FinishReason(chunks[3]));
        Assert.Equal(TokenUsage.Of(0, 9), usage);
    }

    [Fact]
    public async Task Crlf_line_endings_read_the_same()
    {
        var crlf = Encoding.UTF8.GetBytes(ProviderFixtures.Text("ollama", "chat-stream.ndjson").ReplaceLineEndings("\r\n"));
        var (chunks, _, usage) = await ReadAsync(crlf);
        Assert.Equal(7, chunks.Count);
        Assert.Equal(TokenUsage.Of(26, 282), usage);
    }

    [Fact]
    public async Task An_error_line_in_the_middle_of_the_stream_interrupts_it_with_its_message()
    {
        await using var stream = Open(ProviderFixtures.Bytes("ollama", "chat-stream-midstream-error.ndjson"));
        var received = new List<string>();
        var error = await Assert.ThrowsAsync<BatonException>(async () =>
        {
            await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
            {
                received.Add(Encoding.UTF8.GetString(chunk.Json.Span));
            }
        });

        Assert.Equal("stream_interrupted", error.Code);
        Assert.Contains("an error was encountered while running the model", error.Message);
        Assert.Equal(3, received.Count);
    }

    [Fact]
    public async Task A_stream_that_ends_before_its_done_line_is_interrupted()
    {
        var lines = ProviderFixtures.Text("ollama", "chat-stream.ndjson").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var truncated = Encoding.UTF8.GetBytes(string.Join('\n', lines[..^1]));

        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAsync(truncated));
        Assert.Equal("stream_interrupted", error.Code);
    }

    [Fact]
    public async Task A_line_that_is_not_json_is_a_malformed_answer()
    {
        var broken = Encoding.UTF8.GetBytes("""{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}""" + "\n{\"model\":\"m\",\"message\":{\n");

        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAsync(broken));
        Assert.Equal("upstream_malformed_response", error.Code);
    }

    [Theory]
    [InlineData("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"tool_calls\":[1]},\"done\":false}")]
    [InlineData("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"tool_calls\":[{\"function\":\"f\"}]},\"done\":false}")]
    public async Task Valid_json_in_a_shape_ollama_does_not_send_is_a_baton_error_not_a_crash(string line)
    {
        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAsync(Encoding.UTF8.GetBytes(line + "\n")));
        Assert.Equal("upstream_malformed_response", error.Code);
        Assert.Equal("test-ollama", error.Provider);
    }
}
