using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.Secrets;

namespace Baton.Core.Tests.Providers.Secrets;

/// <summary>Keys removed from streamed answers, including keys spelled over several chunks, without holding normal text back.</summary>
public sealed class StreamSecretScrubberTests
{
    private const string Key = "sk-live-4f9QzX2mR7tK1wB8";
    private const string Mask = SecretRedactor.Mask;

    private static StreamSecretScrubber Scrubber(params string[] keys) => new(Secrets(keys));

    private static SecretSet Secrets(params string[] keys)
    {
        var redactor = new SecretRedactor();
        foreach (var key in keys.Length == 0 ? [Key] : keys)
        {
            redactor.Add(key);
        }
        return redactor.Secrets;
    }

    private static string Chunk(string content, int index = 0, string field = "content") =>
        $$"""{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":{{index}},"delta":{"{{field}}":{{JsonSerializer.Serialize(content)}}},"finish_reason":null}]}""";

    private static StreamChunk Of(string json) => new(Encoding.UTF8.GetBytes(json), IsUsageOnly: false);

    /// <summary>Feeds every chunk, then ends the stream; returns what came out, in order.</summary>
    private static List<string> Run(StreamSecretScrubber scrubber, IEnumerable<string> chunks)
    {
        var output = new List<string>();
        foreach (var chunk in chunks)
        {
            scrubber.Accept(Of(chunk));
            Drain(scrubber, output);
        }
        scrubber.Complete();
        Drain(scrubber, output);
        return output;
    }

    private static void Drain(StreamSecretScrubber scrubber, List<string> output)
    {
        while (scrubber.TryTake(out var chunk))
        {
            output.Add(Encoding.UTF8.GetString(chunk.Json.Span));
        }
    }

    /// <summary>The text of one channel (choice index and delta field) across the chunks.</summary>
    private static string TextOf(IEnumerable<string> chunks, int index = 0, string field = "content")
    {
        var text = new StringBuilder();
        foreach (var chunk in chunks)
        {
            using var document = JsonDocument.Parse(chunk);
            foreach (var choice in document.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("index").GetInt32() == index && choice.GetProperty("delta").TryGetProperty(field, out var value))
                {
                    text.Append(value.GetString());
                }
            }
        }
        return text.ToString();
    }

    public static TheoryData<int> SplitPoints => new(Enumerable.Range(1, Key.Length - 1));

    [Theory]
    [MemberData(nameof(SplitPoints))]
    public void A_key_split_across_two_chunks_is_masked_wherever_the_split(int split)
    {
        var output = Run(Scrubber(), [Chunk("Your key is " + Key[..split]), Chunk(Key[split..] + ", keep it safe.")]);

        Assert.Equal(2, output.Count);
        // At most seven characters of a key's beginning go out before Baton can know it is one.
        var leaked = split < SecretRedactor.MinimumFragmentLength ? Key[..split] : "";
        Assert.Equal("Your key is " + leaked + Mask + ", keep it safe.", TextOf(output));
        Assert.All(output, chunk => Assert.False(SecretRedactorTests.HoldsFragment(chunk, Key)));
    }

    [Fact]
    public void A_key_spelled_three_characters_a_chunk_is_masked()
    {
        var pieces = new List<string> { "Here", " it", " is:", " " };
        for (var i = 0; i < Key.Length; i += 3)
        {
            pieces.Add(Key.Substring(i, Math.Min(3, Key.Length - i)));
        }
        pieces.Add(".");

        var output = Run(Scrubber(), pieces.Select(p => Chunk(p)));

        Assert.Equal(pieces.Count, output.Count);
        // "sk-" and "liv" went out (six characters of a key's beginning say nothing); "e-4" made nine and was held.
        Assert.Equal("Here it is: " + Key[..6] + Mask + ".", TextOf(output));
        Assert.False(SecretRedactorTests.HoldsFragment(string.Concat(output), Key));
    }

    [Fact]
    public void Normal_text_is_forwarded_at_once_and_unchanged()
    {
        var scrubber = Scrubber();
        var chunk = Chunk("The sk-proj prefix is public; s");

        scrubber.Accept(Of(chunk));

        Assert.False(scrubber.Holding);
        Assert.True(scrubber.TryTake(out var forwarded));
        Assert.Equal(chunk, Encoding.UTF8.GetString(forwarded.Json.Span));
    }

    [Fact]
    public void A_chunk_ending_with_eight_characters_of_a_key_waits_and_goes_out_unchanged_when_the_text_moves_on()
    {
        var scrubber = Scrubber();
        var first = Chunk("a key starts " + Key[..9]);
        var second = Chunk("...but this is not the key.");
        scrubber.Accept(Of(first));

        Assert.True(scrubber.Holding);
        Assert.False(scrubber.TryTake(out _));

        scrubber.Accept(Of(second));
        var output = new List<string>();
        Drain(scrubber, output);
        Assert.Equal([first, second], output);
        Assert.False(scrubber.Holding);
    }

    [Fact]
    public void A_keys_beginning_still_held_when_the_stream_ends_is_masked_as_a_cut_echo()
    {
        var output = Run(Scrubber(), [Chunk("Your key is "), Chunk(Key[..6]), Chunk(Key[6..15])]);

        Assert.Equal("Your key is " + Key[..6] + Mask, TextOf(output));
    }

    [Fact]
    public void Chunks_that_come_while_a_key_is_pending_keep_their_order()
    {
        const string usage = """{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9,"total_tokens":12}}""";

        var output = Run(Scrubber(), [Chunk(Key[..10]), Chunk("other choice", index: 1), Chunk(Key[10..]), usage]);

        Assert.Equal(4, output.Count);
        Assert.Equal(Mask, TextOf(output));
        Assert.Equal("other choice", TextOf(output, index: 1));
        Assert.Equal(usage, output[3]);
    }

    [Fact]
    public void Each_choice_is_followed_on_its_own()
    {
        var output = Run(Scrubber(),
        [
            Chunk("A: " + Key[..12], index: 0),
            Chunk("B: " + Key[..5], index: 1),
            Chunk(Key[12..], index: 0),
            Chunk("nothing", index: 1),
        ]);

        Assert.Equal("A: " + Mask, TextOf(output, index: 0));
        Assert.Equal("B: " + Key[..5] + "nothing", TextOf(output, index: 1));
    }

    [Theory]
    [InlineData("reasoning_content")]
    [InlineData("reasoning")]
    [InlineData("refusal")]
    public void Reasoning_and_refusals_are_followed_too(string field)
    {
        var output = Run(Scrubber(), [Chunk("k=" + Key[..11], field: field), Chunk(Key[11..] + "!", field: field)]);

        Assert.Equal("k=" + Mask + "!", TextOf(output, field: field));
    }

    [Fact]
    public void A_key_spelled_in_a_tool_calls_arguments_is_masked()
    {
        static string Arguments(string text) =>
            $$"""{"id":"c","object":"chat.completion.chunk","choices":[{"delta":{"tool_calls":[{"function":{"arguments":{{JsonSerializer.Serialize(text)}}},"index":0}]},"index":0}]}""";

        var output = Run(Scrubber(), [Arguments("{\"token\":\"" + Key[..14]), Arguments(Key[14..] + "\"}")]);

        var arguments = string.Concat(output.Select(chunk =>
            JsonDocument.Parse(chunk).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0]
                .GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal("{\"token\":\"" + Mask + "\"}", arguments);
    }

    [Fact]
    public void A_whole_key_in_one_chunk_is_masked_in_any_field_and_escaped_spellings_too()
    {
        var escaped = string.Concat(Key.Select(c => $"\\u{(int)c:X4}"));
        var inId = $$$"""{"id":"{{{Key}}}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"}}]}""";
        var inEscapes = $$$"""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"key: {{{escaped}}}."}}]}""";

        var output = Run(Scrubber(), [inId, inEscapes]);

        Assert.DoesNotContain(Key, output[0]);
        Assert.Equal("xkey: " + Mask + ".", TextOf(output));
    }

    [Fact]
    public void Every_configured_key_is_followed()
    {
        const string other = "AIzaSyD-9tSrke72PouQMnMX";

        var output = Run(Scrubber(Key, other), [Chunk(other[..9]), Chunk(other[9..] + " and " + Key[..8]), Chunk(Key[8..])]);

        Assert.Equal(Mask + " and " + Mask, TextOf(output));
    }

    [Fact]
    public void A_hold_that_never_resolves_is_bounded()
    {
        // The key's beginning, then chunks without text: the hold stops growing and masks what is pending.
        var chunks = new List<string> { Chunk(Key[..10]) };
        chunks.AddRange(Enumerable.Repeat("""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{}}]}""", 600));

        var scrubber = Scrubber();
        var output = new List<string>();
        foreach (var chunk in chunks)
        {
            scrubber.Accept(Of(chunk));
            Drain(scrubber, output);
        }

        Assert.False(scrubber.Holding);
        Assert.Equal(chunks.Count, output.Count);
        Assert.Equal(Mask, TextOf(output));
    }

    [Fact]
    public async Task The_stream_forwards_a_chunk_before_reading_the_next_unless_it_may_be_spelling_a_key()
    {
        var source = new CountingStream([Chunk("Hello "), Chunk("world, " + Key[..10]), Chunk(Key[10..] + ".")]);
        await using var stream = new SecretScrubbingStream(source, Secrets());

        var seen = new List<(string Text, int Read)>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            seen.Add((Encoding.UTF8.GetString(chunk.Json.Span), source.Read));
        }

        // The first chunk went out when only it had been read; the second waited for the third.
        Assert.Equal([1, 3, 3], seen.Select(s => s.Read));
        Assert.Equal("Hello world, " + Mask + ".", TextOf(seen.Select(s => s.Text)));
        Assert.Equal(TokenUsage.Of(1, 2), stream.Usage);
    }

    [Fact]
    public async Task A_stream_that_breaks_while_a_key_is_pending_delivers_what_was_held_masked_then_the_error()
    {
        var source = new CountingStream([Chunk("Key: "), Chunk(Key[..12])], breakAtEnd: true);
        await using var stream = new SecretScrubbingStream(source, Secrets());

        var (seen, error) = await ReadUntilBrokenAsync(stream);

        Assert.Equal("stream_interrupted", error.Code);
        Assert.Equal("Key: " + Mask, TextOf(seen));
    }

    [Fact]
    public void A_scrubber_given_back_while_it_held_a_key_beginning_starts_its_next_stream_afresh()
    {
        var secrets = Secrets();
        var scrubber = secrets.RentScrubber();
        scrubber.Accept(Of(Chunk("Key: ")));
        scrubber.Accept(Of(Chunk(Key[..12])));
        Assert.True(scrubber.Holding);
        // The client left: the stream is disposed of without its end, with a chunk held and a key half matched.
        secrets.Return(scrubber);

        var next = secrets.RentScrubber();
        Assert.Same(scrubber, next);
        Assert.False(next.Holding);
        var output = Run(next, [Chunk(Key[12..]), Chunk(" ok")]);

        // Nothing of the last stream goes out, and this stream's text does not complete the key the last one began.
        Assert.Equal([Chunk(Key[12..]), Chunk(" ok")], output);
    }

    [Fact]
    public async Task A_stream_read_after_it_was_disposed_of_throws_instead_of_using_a_scrubber_given_back()
    {
        var stream = new SecretScrubbingStream(new CountingStream([Chunk("Hello")]), Secrets());
        await stream.DisposeAsync();
        await stream.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chunks_the_upstream_had_buffered_and_chunks_it_waits_for_come_out_alike(bool buffered)
    {
        var source = new CountingStream([Chunk("Hello "), Chunk("world, " + Key[..10]), Chunk(Key[10..] + "."), Chunk("Bye")], breakAtEnd: true, buffered: buffered);
        await using var stream = new SecretScrubbingStream(source, Secrets());

        var (seen, error) = await ReadUntilBrokenAsync(stream);

        Assert.Equal("stream_interrupted", error.Code);
        Assert.Equal(4, seen.Count);
        Assert.Equal("Hello world, " + Mask + ".Bye", TextOf(seen));
        Assert.Equal(TokenUsage.Of(1, 2), stream.Usage);
    }

    [Fact]
    public async Task A_stream_is_read_once()
    {
        await using var stream = new SecretScrubbingStream(new CountingStream([Chunk("Hello")]), Secrets());
        var chunks = stream.ReadAsync(CancellationToken.None).GetAsyncEnumerator();

        Assert.Throws<InvalidOperationException>(() => stream.ReadAsync(CancellationToken.None).GetAsyncEnumerator());
        Assert.True(await chunks.MoveNextAsync());
        Assert.Equal(Chunk("Hello"), Encoding.UTF8.GetString(chunks.Current.Json.Span));
    }

    /// <summary>Reads a stream that breaks: the chunks that came out before the error, and the error.</summary>
    private static async Task<(List<string> Seen, BatonException Error)> ReadUntilBrokenAsync(ProviderStream stream)
    {
        var seen = new List<string>();
        var error = await Assert.ThrowsAsync<BatonException>(async () =>
        {
            await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
            {
                seen.Add(Encoding.UTF8.GetString(chunk.Json.Span));
            }
        });
        return (seen, error);
    }

    /// <summary>Yields its chunks, counting how many it has produced; optionally breaks after the last.</summary>
    private sealed class CountingStream(List<string> chunks, bool breakAtEnd = false, bool buffered = false) : ProviderStream
    {
        public int Read { get; private set; }

        public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var chunk in chunks)
            {
                if (!buffered)
                {
                    await Task.Yield();
                }
                Read++;
                yield return Of(chunk);
            }
            Usage = TokenUsage.Of(1, 2);
            if (breakAtEnd)
            {
                throw UpstreamErrors.StreamInterrupted("p", "the connection was reset.");
            }
        }
    }
}
