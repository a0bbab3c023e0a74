using System.Text;
using System.Text.Json;
using Baton.Caching;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Core.Tests.Caching;

/// <summary>The answer a stream's assembler writes from its UTF-8 text is the one the string writer gives, byte for byte.</summary>
public sealed class StreamAssemblerTests
{
    private static readonly TokenUsage Usage = new(9, 4, 13);

    private static byte[] Chunk(string delta, string? finish = null) => Encoding.UTF8.GetBytes(
        $$"""{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{{delta}},"finish_reason":{{(finish is null ? "null" : $"\"{finish}\"")}}}]}""");

    [Fact]
    public void Text_with_escapes_and_reasoning_is_written_as_the_string_writer_writes_it()
    {
        using var assembler = new StreamAssembler();
        assembler.Add(Chunk("""{"role":"assistant","content":""}"""));
        assembler.Add(Chunk("""{"reasoning_content":"Think \"twice\" \u00e9 "}"""));
        assembler.Add(Chunk("""{"content":"Say \"h\u00e9llo\"\n\ttab \\ <b>&amp;</b> 😀 "}"""));
        assembler.Add(Chunk("""{"content":"\ud83d\ude00 終わり \u0001"}"""));
        assembler.Add(Chunk("{}", finish: "stop"));

        var expected = ChatCompletionWriter.Write(
            "chatcmpl-9", 1735689600, "gpt-x", "Say \"héllo\"\n\ttab \\ <b>&amp;</b> 😀 😀 終わり \u0001", [], "stop", Usage,
            reasoningContent: "Think \"twice\" é ");

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(assembler.ToCompletion(Usage)!));
        Assert.Equal(expected, assembler.WriteCompletion(Usage).ToArray());
    }

    [Theory]
    // As upstreams send it; with escapes (decoded as the string writer would); none in the first chunk; none at all.
    [InlineData("\"chatcmpl-9\"", "\"chatcmpl-9\"", "chatcmpl-9")]
    [InlineData("\"chat\\u0063mpl-\\\"\\u00e9\\\"\"", "\"chat\\u0063mpl-\\\"\\u00e9\\\"\"", "chatcmpl-\"é\"")]
    [InlineData(null, "\"chatcmpl-later\"", "chatcmpl-later")]
    [InlineData(null, null, "chatcmpl-cached")]
    public void The_id_is_written_as_the_first_chunk_naming_one_gave_it(string? firstId, string? laterId, string written)
    {
        static byte[] WithId(string? id, string delta, string? finish) => Encoding.UTF8.GetBytes(
            $$"""{{{(id is null ? "" : $"\"id\":{id},")}}"object":"chat.completion.chunk","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{{delta}},"finish_reason":{{(finish is null ? "null" : $"\"{finish}\"")}}}]}""");
        using var assembler = new StreamAssembler();
        assembler.Add(WithId(firstId, """{"role":"assistant","content":"Hi"}""", null));
        assembler.Add(WithId(laterId, """{"content":" there"}""", null));
        assembler.Add(WithId(laterId is null ? null : "\"chatcmpl-other\"", "{}", "stop"));

        var expected = ChatCompletionWriter.Write(written, 1735689600, "gpt-x", "Hi there", [], "stop", Usage);

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(assembler.WriteCompletion(Usage).Span));
    }

    [Fact]
    public void Tool_calls_without_text_are_written_with_a_null_content()
    {
        using var assembler = new StreamAssembler();
        assembler.Add(Chunk("""{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}"""));
        assembler.Add(Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"""));
        assembler.Add(Chunk("{}", finish: "tool_calls"));

        var expected = ChatCompletionWriter.Write(
            "chatcmpl-9", 1735689600, "gpt-x", null, [new OpenAiToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}")], "tool_calls", Usage);

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(assembler.ToCompletion(Usage)!));
    }

    [Fact]
    public void An_unfinished_stream_writes_nothing_and_each_answer_written_on_a_thread_is_whole()
    {
        using var unfinished = new StreamAssembler();
        unfinished.Add(Chunk("""{"content":"cut"}"""));
        Assert.True(unfinished.WriteCompletion(Usage).IsEmpty);
        Assert.Null(unfinished.ToCompletion(Usage));

        // The buffer is the thread's: a long answer, then a short one, each parses whole with its own text.
        using var longer = new StreamAssembler();
        longer.Add(Chunk($$"""{"content":"{{new string('x', 100_000)}}"}""", finish: "length"));
        using var shorter = new StreamAssembler();
        shorter.Add(Chunk("""{"content":"short"}""", finish: "stop"));

        using (var first = JsonDocument.Parse(longer.WriteCompletion(Usage)))
        {
            Assert.Equal(100_000, first.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!.Length);
        }
        using var second = JsonDocument.Parse(shorter.WriteCompletion(Usage));
        Assert.Equal("short", second.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }
}
