using System.Text;
using System.Text.Json.Nodes;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.Anthropic;
using Baton.Providers.OpenAi;

namespace Baton.Core.Tests.Providers.Anthropic;

/// <summary>The published example streams, fed through the stream translator from memory.</summary>
public sealed class AnthropicStreamTranslatorTests
{
    private static async Task<(List<(JsonNode Json, bool UsageOnly)> Chunks, Baton.Providers.TokenUsage? Usage)> TranslateAsync(byte[] sse)
    {
        await using var stream = AnthropicFixtures.Stream(sse);
        var chunks = await AnthropicFixtures.ReadAllAsync(stream);
        return (chunks, stream.Usage);
    }

    [Fact]
    public async Task The_documented_text_stream_becomes_openai_chunks_ending_with_usage()
    {
        var (chunks, usage) = await TranslateAsync(AnthropicFixtures.Read("stream-text.sse"));

        // role, "Hello", "!", finish, usage: ping and block start/stop carry nothing for an OpenAI client.
        Assert.Equal(5, chunks.Count);
        Assert.All(chunks, c => Assert.Equal("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", c.Json["id"]!.GetValue<string>()));
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.Json["object"]!.GetValue<string>()));
        Assert.All(chunks, c => Assert.Equal("claude-3-5-sonnet-20241022", c.Json["model"]!.GetValue<string>()));
        Assert.Equal("assistant", AnthropicFixtures.Delta(chunks[0].Json)!["role"]!.GetValue<string>());
        Assert.Equal("Hello!", AnthropicFixtures.Join(chunks, d => d["content"]));
        Assert.Equal("stop", chunks[3].Json["choices"]![0]!["finish_reason"]!.GetValue<string>());

        var last = chunks[^1];
        Assert.True(last.UsageOnly);
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.UsageOnly));
        Assert.Empty(last.Json["choices"]!.AsArray());
        Assert.Equal(25, last.Json["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(15, last.Json["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(Baton.Providers.TokenUsage.Of(25, 15), usage);
    }

    [Fact]
    public async Task The_documented_tool_stream_becomes_text_then_one_tool_call_with_its_arguments_in_fragments()
    {
        var (chunks, usage) = await TranslateAsync(AnthropicFixtures.Read("stream-tool-use.sse"));

        Assert.Equal("Okay, let's check the weather for San Francisco, CA:", AnthropicFixtures.Join(chunks, d => d["content"]));
        var calls = chunks.Where(c => !c.UsageOnly).Select(c => AnthropicFixtures.Delta(c.Json)!["tool_calls"]).OfType<JsonNode>().Select(t => t[0]!).ToList();
        // Tool calls are numbered from 0 although the tool block is Anthropic's block 1.
        Assert.All(calls, c => Assert.Equal(0, c["index"]!.GetValue<int>()));
        Assert.Equal("toolu_01T1x1fJ34qAmk2tNTrN7Up6", calls[0]["id"]!.GetValue<string>());
        Assert.Equal("get_weather", calls[0]["function"]!["name"]!.GetValue<string>());
        Assert.All(calls.Skip(1), c => Assert.Null(c["id"]));
        var arguments = string.Concat(calls.Select(c => c["function"]!["arguments"]!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"location": "San Francisco, CA", "unit": "fahrenheit"}"""), JsonNode.Parse(arguments)), arguments);
        Assert.Equal("tool_calls", chunks[^2].Json["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(Baton.Providers.TokenUsage.Of(472, 89), usage);
    }

    [Fact]
    public async Task Thinking_deltas_become_reasoning_content_and_the_signature_reasoning_signature()
    {
        var (chunks, usage) = await TranslateAsync(AnthropicFixtures.Read("stream-thinking.sse"));

        var reasoning = AnthropicFixtures.Join(chunks, d => d["reasoning_content"]);
        Assert.StartsWith("I need to find the GCD", reasoning);
        Assert.EndsWith("GCD(1071, 462) = 21", reasoning);
        Assert.Equal("The greatest common divisor of 1071 and 462 is **21**.", AnthropicFixtures.Join(chunks, d => d["content"]));
        // The signature goes on in a field of its own, never into the text or reasoning a client reads.
        Assert.Equal("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...", AnthropicFixtures.Join(chunks, d => d["reasoning_signature"]));
        Assert.DoesNotContain("EqQB", reasoning, StringComparison.Ordinal);
        Assert.Equal(112, usage!.Value.CompletionTokens);
    }

    [Fact]
    public async Task An_error_event_mid_stream_interrupts_it_after_the_chunks_already_sent()
    {
        await using var stream = AnthropicFixtures.Stream(AnthropicFixtures.Read("stream-error.sse"));
        var seen = new List<string>();
        var error = await Assert.ThrowsAsync<BatonException>(async () =>
        {
            await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
            {
                seen.Add(Encoding.UTF8.GetString(chunk.Json.Span));
            }
        });
        Assert.Equal("stream_interrupted", error.Code);
        Assert.Contains("overloaded_error", error.Message);
        Assert.Contains("Overloaded", error.Message);
        Assert.Equal(2, seen.Count);
        Assert.Contains("Hello", seen[1]);
    }

    [Fact]
    public async Task A_stream_that_ends_before_message_stop_is_interrupted_not_complete()
    {
        var full = Encoding.UTF8.GetString(AnthropicFixtures.Read("stream-text.sse"));
        var cut = full[..full.IndexOf("event: message_stop", StringComparison.Ordinal)];
        await using var stream = AnthropicFixtures.Stream(Encoding.UTF8.GetBytes(cut));

        var error = await Assert.ThrowsAsync<BatonException>(() => AnthropicFixtures.ReadAllAsync(stream));
        Assert.Equal("stream_interrupted", error.Code);
        Assert.Null(stream.Usage);
    }

    [Fact]
    public async Task Invalid_json_in_an_event_is_malformed()
    {
        var sse = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\n\n"u8.ToArray();
        await using var stream = AnthropicFixtures.Stream(sse);
        var error = await Assert.ThrowsAsync<BatonException>(() => AnthropicFixtures.ReadAllAsync(stream));
        Assert.Equal("upstream_malformed_response", error.Code);
        Assert.Equal(502, error.StatusCode);
    }

    [Theory]
    [InlineData("{\"type\":\"message_start\"}")]
    [InlineData("{\"type\":\"message_start\",\"message\":\"m\"}")]
    [InlineData("{\"type\":\"content_block_start\",\"index\":\"0\",\"content_block\":{\"type\":\"tool_use\"}}")]
    [InlineData("{\"type\":\"content_block_delta\",\"index\":\"0\",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}")]
    public async Task Valid_json_in_a_shape_anthropic_does_not_send_is_malformed_as_in_the_other_formats(string data)
    {
        // A well-formed start first, so that what fails is the shape of the event under test.
        var start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\"}}\n\n";
        await using var stream = AnthropicFixtures.Stream(Encoding.UTF8.GetBytes(start + "data: " + data + "\n\n"));

        var error = await Assert.ThrowsAsync<BatonException>(() => AnthropicFixtures.ReadAllAsync(stream));
        Assert.Equal("upstream_malformed_response", error.Code);
        Assert.Equal(502, error.StatusCode);
    }

    private const string StartEvent = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\"}}\n\n";

    private static async Task<List<byte[]>> ChunkBytesAsync(string sse)
    {
        await using var stream = AnthropicFixtures.Stream(Encoding.UTF8.GetBytes(sse));
        var chunks = new List<byte[]>();
        try
        {
            await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
            {
                chunks.Add(chunk.Json.ToArray());
            }
        }
        catch (BatonException error) when (error.Code == "stream_interrupted")
        {
            // These streams end without message_stop: what came before is what is compared.
        }
        return chunks;
    }

    [Fact]
    public async Task Block_deltas_are_written_as_the_string_writer_writes_them_whatever_their_escapes_and_field_order()
    {
        var tool = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get\",\"input\":{}}}\n\n";
        string Delta(string json) => "event: content_block_delta\ndata: " + json + "\n\n";
        var sse = StartEvent + tool
            + Delta("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"plain"}}""")
            + Delta("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"line\nnext \"quoted\" caf\u00e9 \ud83d\ude00 </b>"}}""")
            // Fields in another order, fields of no use (an object, an array), and no type in the payload.
            + Delta("""{"delta":{"citation":{"url":"u","n":[1,2]},"text":"first","type":"text_delta"},"extra":[{"a":1}],"index":0}""")
            + Delta("""{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"a\tb"}}""")
            + Delta("""{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}""")
            + Delta("""{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}""")
            // An escaped type is unescaped.
            + Delta("""{"type":"content_block_delt\u0061","index":0,"delta":{"type":"text_delta","text":"escaped type"}}""")
            // An empty type is no known type (nothing), and events named only by their event: line.
            + Delta("""{"type":"","index":0,"delta":{"type":"text_delta","text":"typed empty"}}""")
            + Delta("""{"index":0,"delta":{"type":"text_d\u0065lta","text":"no type"}}""")
            + "event: ping\ndata: {}\n\nevent: content_block_stop\ndata: {\"index\":0}\n\n"
            // Text that is not a string is no text, as the document reading has it.
            + Delta("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":12}}""")
            // Nothing for an OpenAI client: an unknown delta, an empty fragment, a fragment of a block that is no tool.
            + Delta("""{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}""")
            + Delta("""{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}""")
            + Delta("""{"type":"content_block_delta","index":5,"delta":{"type":"input_json_delta","partial_json":"x"}}""");

        var chunks = await ChunkBytesAsync(sse);

        var expected = new ChatChunkWriter("msg_1", AnthropicFixtures.Created, "claude");
        ReadOnlyMemory<byte>[] written =
        [
            expected.Role(),
            expected.ToolCallStart(0, "toolu_1", "get"),
            expected.Content("plain"),
            expected.Content("line\nnext \"quoted\" café 😀 </b>"),
            expected.Content("first"),
            expected.ReasoningContent("a\tb"),
            expected.ReasoningSignature("EqQB"),
            expected.ToolCallArguments(0, "{\"city\": \"Par"),
            expected.Content("escaped type"),
            expected.Content("no type"),
            expected.Content(""),
        ];
        Assert.Equal(written.Select(c => Encoding.UTF8.GetString(c.Span)), chunks.Select(Encoding.UTF8.GetString));
    }

    [Fact]
    public async Task The_events_that_start_and_end_the_message_and_its_blocks_are_read_in_the_same_pass_with_the_same_result()
    {
        string Event(string type, string json) => "event: " + type + "\ndata: " + json + "\n\n";
        var sse = Event("message_start", """{"type":"message_start","message":{"id":"msg_\u0031","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":1.5,"output_tokens":1,"server_tool_use":{"web_search_requests":0}}}}""")
            + Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"hm\n","signature":""}}""")
            + Event("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"text","text":"Hi"}}""")
            + Event("content_block_start", """{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}""")
            + Event("content_block_start", """{"index":3,"content_block":{"input":{"q":[1]},"name":"search","id":"toolu_9","type":"tool_use"},"type":"content_block_start"}""")
            + Event("content_block_delta", """{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}}""")
            + Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42,"input_tokens":"x"}}""")
            + Event("message_stop", """{"type":"message_stop"}""");

        await using var stream = AnthropicFixtures.Stream(Encoding.UTF8.GetBytes(sse));
        var chunks = new List<string>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            chunks.Add(Encoding.UTF8.GetString(chunk.Json.Span));
        }

        // Input counts the cache reads and writes; a count that is no whole number is 0, one that is no number is kept.
        var usage = Baton.Providers.TokenUsage.Of(15, 42, cached: 5, cacheWrite: 0);
        var expected = new ChatChunkWriter("msg_1", AnthropicFixtures.Created, "claude");
        ReadOnlyMemory<byte>[] written =
        [
            expected.Role(),
            expected.ReasoningContent("hm\n"),
            expected.Content("Hi"),
            expected.ToolCallStart(0, "toolu_9", "search"),
            expected.ToolCallArguments(0, "{}"),
            expected.Finish("tool_calls"),
            expected.Usage(usage),
        ];
        Assert.Equal(written.Select(c => Encoding.UTF8.GetString(c.Span)), chunks);
        Assert.Equal(usage, stream.Usage);
    }

    [Theory]
    // Something after the event's object; a delta without its delta.
    [InlineData("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}} x")]
    [InlineData("{\"type\":\"content_block_delta\",\"index\":0}")]
    public async Task A_block_delta_that_is_not_json_or_not_in_anthropics_shape_is_malformed(string data)
    {
        await using var stream = AnthropicFixtures.Stream(Encoding.UTF8.GetBytes(StartEvent + "event: content_block_delta\ndata: " + data + "\n\n"));

        var error = await Assert.ThrowsAsync<BatonException>(() => AnthropicFixtures.ReadAllAsync(stream));
        Assert.Equal("upstream_malformed_response", error.Code);
    }

    [Theory]
    [InlineData("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_\u00ff\",\"model\":\"claude\"}}")]
    [InlineData("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\u00ffb\"}}")]
    [InlineData("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\\n\u00ffb\"}}")]
    [InlineData("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end\u00ff\"}}")]
    public async Task Text_that_is_not_utf8_is_malformed_as_the_document_reading_has_it(string type, string json)
    {
        // Written in Latin-1, the \u00ff becomes the byte 0xFF, which starts no UTF-8 character.
        var data = Encoding.Latin1.GetBytes(json);
        var head = type == "message_start" ? [] : Encoding.UTF8.GetBytes(StartEvent);
        byte[] sse = [.. head, .. Encoding.UTF8.GetBytes("event: " + type + "\ndata: "), .. data, .. "\n\n"u8];
        await using var stream = AnthropicFixtures.Stream(sse);

        var error = await Assert.ThrowsAsync<BatonException>(() => AnthropicFixtures.ReadAllAsync(stream));
        Assert.Equal("upstream_malformed_response", error.Code);
    }

    [Fact]
    public async Task A_stream_read_after_it_was_disposed_of_says_so_instead_of_reading_the_reader_it_gave_back()
    {
        var stream = AnthropicFixtures.Stream(AnthropicFixtures.Read("stream-text.sse"));
        var chunks = stream.ReadAsync(CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await chunks.MoveNextAsync());
        await stream.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await chunks.MoveNextAsync());
    }

    [Fact]
    public async Task Content_before_message_start_is_an_interrupted_stream()
    {
        var sse = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"u8.ToArray();
        await using var stream = AnthropicFixtures.Stream(sse);
        var error = await Assert.ThrowsAsync<BatonException>(() => AnthropicFixtures.ReadAllAsync(stream));
        Assert.Equal("stream_interrupted", error.Code);
    }

    [Fact]
    public async Task Streams_made_at_random_read_in_one_pass_give_what_the_document_reading_gives()
    {
        var random = new Random(18);
        string[] texts = ["", "a", "line\\nnext", "caf\\u00e9", "\\ud83d\\ude00 \\\"q\\\"", "{\\\"city\\\": \\\"Par"];
        string[] values = ["1", "1.5", "-2", "null", "true", "\"s\"", "[]", "{}", "[1,{\"a\":[]}]"];
        string Odd() => values[random.Next(values.Length)];
        string Text() => random.Next(4) == 0 ? Odd() : "\"" + texts[random.Next(texts.Length)] + "\"";
        string Named(params string[] names) => random.Next(5) == 0 ? Odd() : "\"" + names[random.Next(names.Length)] + "\"";
        string Fields(params (string Name, Func<string> Value)[] fields)
        {
            // Any of them, in any order, some twice, with fields of no use among them.
            var chosen = fields.Where(_ => random.Next(5) > 0).Select(f => "\"" + f.Name + "\":" + f.Value()).ToList();
            if (chosen.Count > 0 && random.Next(10) == 0)
            {
                chosen.Add(chosen[random.Next(chosen.Count)]);
            }
            if (random.Next(4) == 0)
            {
                chosen.Add("\"extra\":" + Odd());
            }
            return "{" + string.Join(",", chosen.OrderBy(_ => random.Next())) + "}";
        }
        string Index() => random.Next(6) == 0 ? Odd() : random.Next(3).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string Usage() => random.Next(6) == 0 ? Odd() : Fields(("input_tokens", () => "10"), ("output_tokens", () => random.Next(2) == 0 ? "7" : Odd()),
            ("cache_read_input_tokens", () => "2"), ("cache_creation_input_tokens", () => random.Next(2) == 0 ? "1" : Odd()));
        string[] types = ["content_block_delta", "content_block_delta", "content_block_delta", "content_block_start", "message_delta", "ping", "content_block_stop", "message_start", "error"];
        string Event(string type) => type switch
        {
            "message_start" => Fields(("type", () => "\"message_start\""), ("message", () => random.Next(8) == 0 ? Odd()
                : Fields(("id", Text), ("model", Text), ("usage", Usage), ("content", () => "[]")))),
            "content_block_start" => Fields(("type", () => "\"content_block_start\""), ("index", Index), ("content_block", () => random.Next(8) == 0 ? Odd()
                : Fields(("type", () => Named("text", "thinking", "tool_use", "server_tool_use")), ("text", Text), ("thinking", Text), ("id", Text), ("name", Text), ("input", () => "{}")))),
            "content_block_delta" => Fields(("type", () => "\"content_block_delta\""), ("index", Index), ("delta", () => random.Next(8) == 0 ? Odd()
                : Fields(("type", () => Named("text_delta", "thinking_delta", "input_json_delta", "signature_delta", "citations_delta")),
                    ("text", Text), ("thinking", Text), ("partial_json", Text), ("signature", Text)))),
            "message_delta" => Fields(("type", () => "\"message_delta\""), ("delta", () => random.Next(8) == 0 ? Odd()
                : Fields(("stop_reason", () => Named("end_turn", "tool_use", "max_tokens")), ("stop_sequence", () => "null"))), ("usage", Usage)),
            "error" => Fields(("type", () => "\"error\""), ("error", () => Fields(("type", Text), ("message", Text)))),
            _ => Fields(("type", () => "\"" + type + "\""), ("index", Index)),
        };

        for (var stream = 0; stream < 2000; stream++)
        {
            var sse = new StringBuilder();
            var count = 1 + random.Next(10);
            for (var i = 0; i < count; i++)
            {
                var type = i == 0 && random.Next(4) > 0 ? "message_start" : types[random.Next(types.Length)];
                // The event: line usually names the payload's type; a proxy may have dropped or changed it.
                var line = random.Next(6) == 0 ? types[random.Next(types.Length)] : type;
                sse.Append("event: ").Append(line).Append("\ndata: ").Append(Event(type)).Append("\n\n");
            }
            if (random.Next(3) > 0)
            {
                sse.Append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
            }
            var bytes = Encoding.UTF8.GetBytes(sse.ToString());

            var (onePass, onePassEnd, onePassUsage) = await OutcomeAsync(AnthropicFixtures.Stream(bytes));
            var (document, documentEnd, documentUsage) = await OutcomeAsync(new AnthropicStreamTranslator(
                "test-anthropic", new MemoryStream(bytes), AnthropicFixtures.Created, new SecretRedactor()) { ReadsInOnePass = false });

            Assert.True(document.SequenceEqual(onePass), sse.ToString());
            Assert.True(documentEnd == onePassEnd, sse + "\n" + documentEnd + "\n" + onePassEnd);
            Assert.True(documentUsage == onePassUsage, sse.ToString());
        }
    }

    /// <summary>A stream's chunks, how it ended (its error's code and message, or "end"), and its usage.</summary>
    private static async Task<(List<string> Chunks, string End, Baton.Providers.TokenUsage? Usage)> OutcomeAsync(AnthropicStreamTranslator stream)
    {
        await using (stream)
        {
            var chunks = new List<string>();
            try
            {
                await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
                {
                    chunks.Add(Encoding.UTF8.GetString(chunk.Json.Span) + (chunk.IsUsageOnly ? " (usage)" : ""));
                }
                return (chunks, "end", stream.Usage);
            }
            catch (BatonException error)
            {
                return (chunks, error.Code + ": " + error.Message, stream.Usage);
            }
        }
    }
}
