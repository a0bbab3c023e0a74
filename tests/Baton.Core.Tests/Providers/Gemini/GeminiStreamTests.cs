using System.Text;
using System.Text.Json;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.Gemini;

namespace Baton.Core.Tests.Providers.Gemini;

/// <summary>Gemini's SSE as the provider reads it, fed from fixtures and hand-made bodies.</summary>
public sealed class GeminiStreamTests
{
    private static GeminiSseStream Stream(byte[] body) => new GeminiSseStream(
        "test-gemini", new HttpResponseMessage(), new MemoryStream(body), new GeminiStreamTranslator("fallback", 1_700_000_000), new SecretRedactor());

    private static async Task<List<(JsonDocument Json, bool UsageOnly)>> ReadAsync(ProviderStream stream)
    {
        var chunks = new List<(JsonDocument, bool)>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            // A chunk is lent until the next one is read: the document is made of a copy.
            chunks.Add((JsonDocument.Parse(chunk.Json.ToArray()), chunk.IsUsageOnly));
        }
        return chunks;
    }

    private static JsonElement Delta(JsonDocument chunk) => chunk.RootElement.GetProperty("choices")[0].GetProperty("delta");

    private static string? Finish(JsonDocument chunk) =>
        chunk.RootElement.GetProperty("choices") is { } choices && choices.GetArrayLength() > 0 ? choices[0].GetProperty("finish_reason").GetString() : null;

    [Fact]
    public async Task A_stream_read_after_it_was_disposed_of_says_so_instead_of_reading_the_reader_it_gave_back()
    {
        var stream = Stream(Encoding.UTF8.GetBytes(GeminiFixtures.Text("stream-basic.sse")));
        var chunks = stream.ReadAsync(CancellationToken.None).GetAsyncEnumerator();
        // The first event gives two chunks, the role and its text: the move after them reads the body again.
        Assert.True(await chunks.MoveNextAsync());
        Assert.True(await chunks.MoveNextAsync());
        Assert.True(Delta(JsonDocument.Parse(chunks.Current.Json)).TryGetProperty("content", out _));
        await stream.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await chunks.MoveNextAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_text_stream_becomes_role_deltas_finish_and_usage(bool crlf)
    {
        var body = GeminiFixtures.Text("stream-basic.sse");
        // On the real wire events are separated by \r\n\r\n.
        await using var stream = Stream(Encoding.UTF8.GetBytes(crlf ? body.Replace("\n", "\r\n", StringComparison.Ordinal) : body));
        var chunks = await ReadAsync(stream);

        Assert.Equal("assistant", Delta(chunks[0].Json).GetProperty("role").GetString());
        var text = string.Concat(chunks.Skip(1).Where(c => !c.UsageOnly && Delta(c.Json).TryGetProperty("content", out _)).Select(c => Delta(c.Json).GetProperty("content").GetString()));
        Assert.Equal("The sky looks blue because air molecules scatter the short blue wavelengths of sunlight much more than the longer red ones (Rayleigh scattering).", text);
        Assert.Equal("stop", Finish(chunks[^2].Json));
        Assert.All(chunks.SkipLast(2), c => Assert.Null(Finish(c.Json)));
        Assert.True(chunks[^1].UsageOnly);
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.UsageOnly));
        Assert.All(chunks, c => Assert.Equal("X4GraNftMbqwxN8PmryqwAI", c.Json.RootElement.GetProperty("id").GetString()));
        Assert.All(chunks, c => Assert.Equal("gemini-2.5-flash", c.Json.RootElement.GetProperty("model").GetString()));

        // The last running totals: prompt 8, candidates 25 + thoughts 57.
        Assert.Equal(TokenUsage.Of(8, 82, reasoning: 57), stream.Usage);
        Assert.Equal(90, chunks[^1].Json.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task A_function_call_stream_gives_the_whole_call_in_one_delta_and_finishes_with_tool_calls()
    {
        await using var stream = Stream(GeminiFixtures.Bytes("stream-function-call.sse"));
        var chunks = await ReadAsync(stream);

        var calls = chunks.Where(c => !c.UsageOnly && Delta(c.Json).TryGetProperty("tool_calls", out _)).ToList();
        var call = Assert.Single(calls).Json.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0];
        Assert.Equal(0, call.GetProperty("index").GetInt32());
        Assert.StartsWith("x7k2m9qp" + GeminiToolCallIds.Separator, call.GetProperty("id").GetString());
        Assert.Equal("schedule_meeting", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"attendees":["Bob","Alice"],"date":"2025-03-27","time":"10:00","topic":"Q3 planning"}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.DoesNotContain(chunks, c => !c.UsageOnly && Delta(c.Json).TryGetProperty("content", out _));
        Assert.Equal("tool_calls", Finish(chunks[^2].Json));
        Assert.Equal(TokenUsage.Of(187, 124, reasoning: 88), stream.Usage);
    }

    [Fact]
    public async Task A_body_that_ends_before_the_finish_reason_is_an_interrupted_stream()
    {
        var events = GeminiFixtures.Text("stream-basic.sse").Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        await using var stream = Stream(Encoding.UTF8.GetBytes(events[0] + "\n\n" + events[1] + "\n\n"));

        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAsync(stream));
        Assert.Equal("stream_interrupted", error.Code);
        Assert.Equal("test-gemini", error.Provider);
    }

    [Fact]
    public async Task An_event_that_is_not_json_is_malformed()
    {
        var events = GeminiFixtures.Text("stream-basic.sse").Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        await using var stream = Stream(Encoding.UTF8.GetBytes(events[0] + "\n\ndata: {\"candidates\": [\n\n"));

        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAsync(stream));
        Assert.Equal("upstream_malformed_response", error.Code);
    }

    [Fact]
    public async Task An_error_event_in_the_stream_interrupts_it_with_the_upstream_message()
    {
        await using var stream = Stream("data: {\"error\": {\"code\": 503,\"message\": \"The model is overloaded.\",\"status\": \"UNAVAILABLE\"}}\r\n\r\n"u8.ToArray());

        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAsync(stream));
        Assert.Equal("stream_interrupted", error.Code);
        Assert.Contains("The model is overloaded.", error.Message);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"candidates\": [1]}")]
    [InlineData("{\"candidates\": [{\"content\": \"hi\"}]}")]
    [InlineData("{\"candidates\": [{\"content\": {\"parts\": [\"hi\"]}}]}")]
    [InlineData("{\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": \"f\"}]}}]}")]
    [InlineData("{\"promptFeedback\": \"blocked\"}")]
    public async Task Valid_json_in_a_shape_gemini_does_not_send_is_a_baton_error_not_a_crash(string data)
    {
        await using var stream = Stream(Encoding.UTF8.GetBytes("data: " + data + "\n\n"));

        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAsync(stream));
        Assert.Equal("upstream_malformed_response", error.Code);
        Assert.Equal("test-gemini", error.Provider);
    }
}
