using System.Text;
using System.Text.Json;
using Baton.Caching;
using Baton.Core.Tests.TestSupport;
using Baton.Engine;
using Baton.Providers;
using Baton.Providers.OpenAi;
using Microsoft.Extensions.ObjectPool;
using Baton.Providers.Secrets;

namespace Baton.Core.Tests.Providers.OpenAi;

/// <summary>
/// The one reading of a stream chunk, and the consumers fed from it (the resume tap, the cache's assembler, the
/// key scrubber): they must see exactly what a full parse of each chunk sees.
/// </summary>
public sealed class StreamChunkReaderTests
{
    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string ContentChunk(string content, int index = 0, string field = "content") =>
        $$"""{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1735689600,"model":"gpt-x","choices":[{"index":{{index}},"delta":{"{{field}}":{{JsonSerializer.Serialize(content)}}},"finish_reason":null}]}""";

    private const string Finish = """{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""";

    private const string UsageOnly = """{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1735689600,"model":"gpt-x","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}""";

    private static string Text(StreamChunkReader reader, ChunkTextKind kind)
    {
        var text = new StringBuilder();
        foreach (var value in reader.Texts)
        {
            if (value.Kind == kind)
            {
                text.Append(Encoding.UTF8.GetString(reader.TextOf(value)));
            }
        }
        return text.ToString();
    }

    [Fact]
    public void Every_stream_of_a_model_gets_the_same_model_string_and_an_escaped_name_is_decoded()
    {
        using var first = new StreamChunkReader();
        using var second = new StreamChunkReader();
        const string chunk = """{"id":"a","object":"chat.completion.chunk","created":1,"model":"gpt-shared-name","choices":[]}""";

        first.Read(Utf8(chunk));
        second.Read(Utf8(chunk));
        Assert.Equal("gpt-shared-name", first.Model);
        Assert.Same(first.Model, second.Model);

        second.Read(Utf8("""{"id":"a","object":"chat.completion.chunk","created":1,"model":"caf\u00e9\/x","choices":[]}"""));
        Assert.Equal("café/x", second.Model);
    }

    [Fact]
    public void Reads_id_model_created_finish_and_usage_in_one_pass()
    {
        using var reader = new StreamChunkReader();

        reader.Read(Utf8(ContentChunk("Hi")));
        Assert.Equal("chatcmpl-7", reader.Id);
        Assert.Equal("gpt-x", reader.Model);
        Assert.Equal(1735689600, reader.Created);
        Assert.False(reader.HasFinishReason);
        Assert.Null(reader.Usage);
        Assert.Equal(1, reader.ChoiceCount);
        Assert.Equal("Hi", Text(reader, ChunkTextKind.Content));

        reader.Read(Utf8(Finish));
        Assert.True(reader.HasFinishReason);
        Assert.Equal("stop", reader.FinishReason(0));
        Assert.Empty(reader.Texts);

        reader.Read(Utf8(UsageOnly));
        Assert.True(reader.IsUsageOnly);
        Assert.Equal(0, reader.ChoiceCount);
        Assert.Equal(13, reader.Usage?.TotalTokens);
        Assert.Equal(9, reader.Usage?.PromptTokens);
    }

    [Fact]
    public void A_reader_reset_for_its_pool_keeps_nothing_of_its_last_stream()
    {
        // The reset the pool applies, on one instance (the pool itself is shared with tests running beside this one).
        var reader = new StreamChunkReader();
        reader.Read(Utf8(UsageOnly));

        Assert.True(((IResettable)reader).TryReset());

        Assert.Null(reader.Usage);
        Assert.Equal(-1, reader.ChoiceCount);
        Assert.Empty(reader.Texts);
        reader.Read(Utf8(ContentChunk("fresh")));
        Assert.Equal("fresh", Text(reader, ChunkTextKind.Content));
        reader.Dispose();
    }

    [Theory]
    [InlineData("""{"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}""")]
    [InlineData("""{"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}""")]
    [InlineData("""{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":null}""")]
    [InlineData("""{"error":{"message":"overloaded","type":"server_error"}}""")]
    [InlineData("""{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"},"finish_reason":"stop"}]}""")]
    public void Finds_what_the_payload_inspector_finds(string json)
    {
        using var reader = new StreamChunkReader();
        reader.Read(Utf8(json));

        Assert.Equal(OpenAiPayloadInspector.Inspect(Utf8(json)), reader.Findings);
    }

    [Theory]
    [InlineData("""{"id":"c","choices":[{"delta":{"content":"x"}}]""")]
    [InlineData("""{"id":"c"} trailing""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"choices":[{"delta":{"content":"\ud83d"}}]}""")]
    public void A_chunk_that_is_not_valid_json_or_text_is_refused(string json)
    {
        using var reader = new StreamChunkReader();

        Assert.ThrowsAny<JsonException>(() => reader.Read(Utf8(json)));
    }

    [Fact]
    public void Escapes_and_unicode_are_unescaped_into_utf8_and_plain_strings_are_the_chunks_own_bytes()
    {
        using var reader = new StreamChunkReader();
        var json = Utf8("""{"choices":[{"index":0,"delta":{"content":"Say \"h\u00e9llo\"\n\t\ud83d\ude00 \\ /","reasoning_content":"plain ü 😀"}}]}""");
        reader.Read(json);

        Assert.Equal("Say \"héllo\"\n\t😀 \\ /", Text(reader, ChunkTextKind.Content));
        Assert.Equal("plain ü 😀", Text(reader, ChunkTextKind.ReasoningContent));
        var plain = reader.Texts.Single(t => t.Kind == ChunkTextKind.ReasoningContent);
        Assert.False(plain.Escaped);
        Assert.True(reader.TextOf(plain).Overlaps(json));
        var escaped = reader.Texts.Single(t => t.Kind == ChunkTextKind.Content);
        Assert.True(escaped.Escaped);
        // The raw token is the whole JSON string, quotes included: what the scrubber rewrites.
        Assert.Equal((byte)'"', json[escaped.RawStart]);
        Assert.Equal((byte)'"', json[escaped.RawEnd - 1]);
        Assert.Equal(""","reasoning_content":""", Encoding.UTF8.GetString(json.AsSpan(escaped.RawEnd, 21)));
    }

    [Fact]
    public void Tool_calls_are_told_apart_by_index_and_their_index_may_come_last()
    {
        using var reader = new StreamChunkReader();
        reader.Read(Utf8("""
            {"choices":[{"delta":{"tool_calls":[
              {"function":{"name":"a","arguments":"{\"x\":"},"id":"call_a","index":1,"type":"function"},
              {"index":0,"id":"call_b","function":{"name":"b","arguments":"{}"}}
            ]},"index":2}]}
            """));

        // Each call object is marked first (its place in the array, then its index once read); its fields follow.
        Assert.Equal([(1, true), (0, true)], reader.Texts.Where(t => t.Kind == ChunkTextKind.ToolCall).Select(t => (t.Tool, t.ToolIndexGiven)));
        var texts = reader.Texts.Where(t => t.Kind != ChunkTextKind.ToolCall).ToList();
        Assert.Equal(ChunkTextKind.ToolCallStart, texts[0].Kind);
        Assert.All(texts, t => Assert.Equal(2, t.Choice));
        Assert.Equal([1, 1, 1, 0, 0, 0], texts.Skip(1).Select(t => t.Tool));
        Assert.All(texts.Skip(1), t => Assert.True(t.ToolIndexGiven));
        Assert.Equal([ChunkTextKind.ToolName, ChunkTextKind.ToolArguments, ChunkTextKind.ToolId, ChunkTextKind.ToolId, ChunkTextKind.ToolName, ChunkTextKind.ToolArguments],
            texts.Skip(1).Select(t => t.Kind));
        Assert.Equal("{\"x\":", Encoding.UTF8.GetString(reader.TextOf(texts[2])));
    }

    [Fact]
    public void The_first_choice_is_told_apart_with_its_finish_reason_signature_and_calls()
    {
        using var reader = new StreamChunkReader();
        reader.Read(Utf8("""
            {"choices":[
              {"index":0,"delta":{"reasoning_signature":"sig","tool_calls":[{"id":"call_a","function":{"name":"a"}},{"index":3,"type":"function"}],"content":"x"},"finish_reason":"tool_calls"},
              {"index":1,"delta":{"content":"other"},"finish_reason":"stop"}
            ]}
            """));

        Assert.Equal(2, reader.ChoiceCount);
        Assert.Equal("tool_calls", reader.FirstChoiceFinishReason);
        var first = reader.Texts.Take(reader.FirstChoiceTextCount).ToList();
        Assert.All(first, t => Assert.Equal(0, t.Choice));
        Assert.Equal(
            [ChunkTextKind.ReasoningSignature, ChunkTextKind.ToolCallStart, ChunkTextKind.ToolCall, ChunkTextKind.ToolId, ChunkTextKind.ToolName, ChunkTextKind.ToolCall, ChunkTextKind.Content],
            first.Select(t => t.Kind));
        Assert.Equal("sig", Encoding.UTF8.GetString(reader.TextOf(first[0])));
        // A call without an index is known by its place in the array; a call with no field at all is still marked.
        Assert.Equal([(0, false), (3, true)], first.Where(t => t.Kind == ChunkTextKind.ToolCall).Select(t => (t.Tool, t.ToolIndexGiven)));
        Assert.Equal("other", Text(reader, ChunkTextKind.Content)[1..]);
        Assert.Equal(1, reader.Texts.Skip(reader.FirstChoiceTextCount).Single().Choice);

        reader.Read(Utf8("""{"choices":["not an object",{"index":1,"delta":{"content":"y"},"finish_reason":"stop"}]}"""));
        Assert.Equal(0, reader.FirstChoiceTextCount);
        Assert.Null(reader.FirstChoiceFinishReason);

        reader.Read(Utf8(UsageOnly));
        Assert.Equal(0, reader.FirstChoiceTextCount);
        Assert.Null(reader.FirstChoiceFinishReason);
    }

    [Fact]
    public void The_texts_enumerate_without_boxing_and_still_serve_linq()
    {
        using var reader = new StreamChunkReader();
        reader.Read(Utf8(ContentChunk("Hi")));
        var texts = reader.Texts;

        var seen = 0;
        foreach (var text in texts)
        {
            Assert.Equal(ChunkTextKind.Content, text.Kind);
            seen++;
        }
        Assert.Equal(1, seen);
        Assert.Equal(texts.AsSpan().Length, texts.Count);
        Assert.Equal(texts[0], texts.AsSpan()[0]);
        Assert.Equal(texts[0], texts.Single());
        Assert.Empty(default(ChunkTexts));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(4096)]
    public async Task Events_read_by_moving_the_reader_are_those_of_its_sequence(int pieceSize)
    {
        var sse = new StringBuilder();
        foreach (var piece in new[] { ContentChunk("Ünï"), ContentChunk("cödé 😀"), Finish })
        {
            sse.Append("data: ").Append(piece).Append("\n\n");
        }
        sse.Append("event: ping\ndata: {}\n\ndata: [DONE]\n\n");
        var bytes = Utf8(sse.ToString());

        var sequence = new List<(string, string)>();
        using (var events = new SseEventReader(new TrickleStream(bytes, pieceSize)))
        {
            await foreach (var item in events.ReadAsync(CancellationToken.None))
            {
                sequence.Add((item.EventType, Encoding.UTF8.GetString(item.Data.Span)));
            }
        }
        var moved = new List<(string, string)>();
        await using (var events = new SseEventReader(new TrickleStream(bytes, pieceSize)))
        {
            while (await events.MoveNextAsync(CancellationToken.None))
            {
                moved.Add((events.Current.EventType, Encoding.UTF8.GetString(events.Current.Data.Span)));
            }
        }

        Assert.Equal(5, sequence.Count);
        Assert.Equal(("ping", "{}"), sequence[3]);
        Assert.Equal(sequence, moved);
    }

    [Fact]
    public void Reading_again_forgets_the_previous_chunk_and_reuses_its_buffer()
    {
        using var reader = new StreamChunkReader();
        reader.Read(Utf8(ContentChunk("first \"one\"")));
        reader.Read(Utf8(ContentChunk("second \"two\"")));

        Assert.Equal("second \"two\"", Text(reader, ChunkTextKind.Content));
        Assert.Single(reader.Texts);
    }

    [Fact]
    public void A_chunks_own_reading_is_used_and_a_reading_of_other_bytes_is_not()
    {
        var provider = new StreamChunkReader();
        var first = Utf8(ContentChunk("one"));
        provider.Read(first);
        StreamChunkReader? own = null;

        Assert.Same(provider, StreamChunkReader.Of(new StreamChunk(first, false, provider), ref own));
        Assert.Null(own);

        // Rewritten bytes (a scrubbed key, a resumed stream's usage) carry the old reading: it is not trusted.
        var rewritten = Utf8(ContentChunk("two"));
        var reading = StreamChunkReader.Of(new StreamChunk(rewritten, false, provider), ref own);
        Assert.Same(own, reading);
        Assert.Equal("two", Text(reading, ChunkTextKind.Content));
    }

    /// <summary>An answer with escapes, accents, emoji (a surrogate pair escaped in JSON) and a quote, cut into chunks at every place.</summary>
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const string Answer = "Héllo \"wörld\"\n😀 tab\there \\ 終わり";

    public static TheoryData<int> AnswerSplits => new(Enumerable.Range(1, Answer.Length - 1).Where(i => !char.IsLowSurrogate(Answer[i])));

    [Theory]
    [MemberData(nameof(AnswerSplits))]
    public void The_tap_and_the_assembler_rebuild_an_answer_split_anywhere(int split)
    {
        var provider = new StreamChunkReader();
        using var tap = new StreamTextTap();
        using var assembler = new StreamAssembler();
        // One piece escaped as JSON serializers do (\u escapes), the other as raw UTF-8.
        var pieces = new[]
        {
            ContentChunk(Answer[..split]),
            $$"""{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"content":{{JsonSerializer.Serialize(Answer[split..], Relaxed)}}},"finish_reason":null}]}""",
            Finish,
            UsageOnly,
        };
        foreach (var piece in pieces)
        {
            var json = Utf8(piece);
            provider.Read(json);
            var chunk = new StreamChunk(json, provider.IsUsageOnly, provider);
            tap.Observe(chunk);
            assembler.Add(chunk);
        }

        Assert.Equal(Answer, tap.Text);
        Assert.True(tap.HasFinished);
        using var stored = JsonDocument.Parse(assembler.ToCompletion(new TokenUsage(9, 4, 13))!);
        var message = stored.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal(Answer, message.GetProperty("content").GetString());
        Assert.Equal("chatcmpl-7", stored.RootElement.GetProperty("id").GetString());
        Assert.Equal("gpt-x", stored.RootElement.GetProperty("model").GetString());
        Assert.Equal("stop", stored.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    public async Task A_stream_read_off_the_wire_in_pieces_of_any_size_reads_the_same(int pieceSize)
    {
        var sse = new StringBuilder();
        foreach (var piece in new[] { ContentChunk("Ünï"), ContentChunk("cödé 😀\n"), ContentChunk("\"end\""), Finish, UsageOnly })
        {
            sse.Append("data: ").Append(piece).Append("\n\n");
        }
        sse.Append("data: [DONE]\n\n");
        using var events = new SseEventReader(new TrickleStream(Utf8(sse.ToString()), pieceSize));
        using var reader = new StreamChunkReader();
        using var tap = new StreamTextTap();
        TokenUsage? usage = null;
        await foreach (var item in events.ReadAsync(CancellationToken.None))
        {
            if (item.Data.Span.SequenceEqual("[DONE]"u8))
            {
                break;
            }
            reader.Read(item.Data);
            usage ??= reader.Usage;
            tap.Observe(new StreamChunk(item.Data, reader.IsUsageOnly, reader));
        }

        Assert.Equal("Ünïcödé 😀\n\"end\"", tap.Text);
        Assert.Equal(13, usage?.TotalTokens);
    }

    [Fact]
    public void The_assembler_keeps_tool_calls_by_index_and_calls_without_one_apart()
    {
        using var assembler = new StreamAssembler();
        assembler.Add(Utf8("""{"id":"c1","created":5,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"""));
        assembler.Add(Utf8("""{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"""));
        assembler.Add(Utf8("""{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","function":{"name":"get_time","arguments":"{}"}}]}}]}"""));
        assembler.Add(Utf8("""{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}"""));
        assembler.Add(Utf8("""{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_3","function":{"name":"x","arguments":"1"}},{"id":"call_4","function":{"name":"y","arguments":"2"}}]}}]}"""));
        assembler.Add(Utf8("""{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"""));

        using var stored = JsonDocument.Parse(assembler.ToCompletion(new TokenUsage(1, 2, 3))!);
        var message = stored.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var calls = message.GetProperty("tool_calls").EnumerateArray()
            .Select(c => (c.GetProperty("id").GetString(), c.GetProperty("function").GetProperty("name").GetString(), c.GetProperty("function").GetProperty("arguments").GetString()))
            .ToList();
        Assert.Equal([("call_1", "get_weather", "{\"city\":\"Paris\"}"), ("call_2", "get_time", "{}"), ("call_3", "x", "1"), ("call_4", "y", "2")], calls);
        Assert.Equal(5, stored.RootElement.GetProperty("created").GetInt64());
    }

    [Fact]
    public void The_tap_counts_tool_calls_and_reasoning_apart_from_the_text()
    {
        using var tap = new StreamTextTap();
        tap.Observe(Utf8(ContentChunk("Think. ", field: "reasoning")));
        tap.Observe(Utf8(ContentChunk("No.", field: "refusal")));
        tap.Observe(Utf8("""{"choices":[{"index":0,"delta":{"tool_calls":[]}}]}"""));

        Assert.Equal("Think. ", tap.OtherOutputText);
        Assert.False(tap.HasText);
        Assert.True(tap.HasToolCall);
    }

    public static TheoryData<int> KeySplits => new(Enumerable.Range(1, Key.Length - 1));

    private const string Key = "sk-live-4f9QzX2mR7tK1wB8";

    [Theory]
    [MemberData(nameof(KeySplits))]
    public void A_key_split_across_chunks_read_once_is_masked_and_the_tap_sees_the_masked_text(int split)
    {
        var redactor = new SecretRedactor();
        redactor.Add(Key);
        var scrubber = new StreamSecretScrubber(redactor.Secrets);
        var provider = new StreamChunkReader();
        using var tap = new StreamTextTap();
        var passedThrough = 0;
        foreach (var piece in new[] { ContentChunk("Hello. "), ContentChunk("Your key: " + Key[..split]), ContentChunk(Key[split..] + " ok"), Finish })
        {
            var json = Utf8(piece);
            provider.Read(json);
            scrubber.Accept(new StreamChunk(json, false, provider));
            if (piece == Finish)
            {
                scrubber.Complete();
            }
            while (scrubber.TryTake(out var chunk))
            {
                // A chunk forwarded as it came keeps its reading; one held or rewritten is read again downstream.
                if (chunk.Reading is not null)
                {
                    Assert.True(chunk.Json.Equals(provider.Json));
                    passedThrough++;
                }
                tap.Observe(chunk);
            }
        }

        Assert.DoesNotContain(Key[Math.Min(split, SecretRedactor.MinimumFragmentLength)..], tap.Text);
        Assert.Contains(SecretRedactor.Mask, tap.Text);
        Assert.StartsWith("Hello. Your key: ", tap.Text);
        Assert.EndsWith(" ok", tap.Text);
        Assert.InRange(passedThrough, 1, 3);
    }

    /// <summary>A body that hands out at most a few bytes per read, as a slow network does.</summary>
    [Fact]
    public void A_chunk_with_more_texts_than_the_pooled_list_holds_at_first_keeps_them_all_and_the_reader_reads_again_after_dispose()
    {
        var reader = new StreamChunkReader();
        var choices = string.Join(",", Enumerable.Range(0, 20).Select(i =>
            $$"""{"index":{{i}},"delta":{"content":"c{{i}}"},"finish_reason":"stop"}"""));
        var many = $$"""{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"gpt-x","choices":[{{choices}}]}""";

        reader.Read(Utf8(many));

        Assert.Equal(20, reader.Texts.Count);
        Assert.Equal(Enumerable.Range(0, 20), reader.Texts.Select(text => text.Choice));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"c{i}"), reader.Texts.Select(text => Encoding.UTF8.GetString(reader.TextOf(text))));
        Assert.Equal(20, reader.FinishReasonCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Texts[20]);

        reader.Read(Utf8(ContentChunk("one")));
        Assert.Single(reader.Texts);
        Assert.Equal(0, reader.FinishReasonCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Texts[1]);

        reader.Dispose();
        Assert.Empty(reader.Texts);
        reader.Read(Utf8(ContentChunk("again")));
        Assert.Equal("again", Text(reader, ChunkTextKind.Content));
        reader.Dispose();
    }
}
