using System.Text;
using System.Text.Json;
using Baton.Providers.Gemini;

namespace Baton.Core.Tests.Providers.Gemini;

/// <summary>
/// Stream events read in one pass (<see cref="GeminiStreamEvent"/>) give the chunks, usage and end the document's
/// reading gives, byte for byte; what the pass leaves to the document is left whole, with nothing added.
/// </summary>
public sealed class GeminiStreamEventTests
{
    private const string First = """{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-2.5-flash","responseId":"resp-1"}""";

    /// <summary>The chunks of each event in turn, through the pass (which must take every one) and through the document.</summary>
    private static (List<string> OnePass, List<string> Document, GeminiStreamTranslator Pass, GeminiStreamTranslator Doc) Translate(params string[] events)
    {
        using var pass = new GeminiStreamTranslator("fallback", 1_700_000_000);
        using var doc = new GeminiStreamTranslator("fallback", 1_700_000_000);
        var onePass = new List<string>();
        var document = new List<string>();
        foreach (var data in events)
        {
            var chunks = new List<ReadOnlyMemory<byte>>();
            Assert.True(pass.TryTranslate(Encoding.UTF8.GetBytes(data), chunks), data);
            onePass.AddRange(chunks.Select(c => Encoding.UTF8.GetString(c.Span)));
            chunks.Clear();
            using var parsed = JsonDocument.Parse(data);
            doc.Translate(parsed.RootElement, chunks);
            document.AddRange(chunks.Select(c => Encoding.UTF8.GetString(c.Span)));
        }
        return (onePass, document, pass, doc);
    }

    private static string Event(string candidate, string rest = "") => "{\"candidates\":[" + candidate + "]" + rest + "}";

    [Fact]
    public void Text_and_thought_parts_are_written_as_the_document_reading_writes_them_whatever_their_escapes_and_field_order()
    {
        var (onePass, document, pass, doc) = Translate(
            First,
            Event("""{"content":{"parts":[{"text":"line\nnext \"quoted\" caf\u00e9 \ud83d\ude00 </b> \\ \/"}],"role":"model"}}"""),
            // A thought and the answer's text in one event; fields in another order; fields of no use.
            Event("""{"safetyRatings":[{"category":"X","probability":"NEGLIGIBLE"}],"content":{"role":"model","parts":[{"thought":true,"text":"hmm\tthinking"},{"thoughtSignature":"sig","text":"answer"}]},"index":0}"""),
            // Text that is not a string is no text; a thought that is not true is text; a part with no text gives nothing.
            Event("""{"content":{"parts":[{"text":12},{"thought":"true","text":"not a thought"},{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}}"""),
            // Other candidates are not read; no parts, or parts that are no array, give nothing.
            Event("""{"content":{"parts":[{"text":"first"}]}},{"content":{"parts":[{"text":"second"}]}}"""),
            Event("""{"content":{}}"""),
            Event("""{"content":{"parts":"none"}}"""),
            "{\"candidates\":[]}",
            // Of a field that comes twice, the last counts.
            Event("""{"content":{"parts":[{"text":"first","text":"last","thought":true,"thought":false}]},"finishReason":1,"finishReason":null}"""),
            """{"usageMetadata":{"promptTokenCount":1,"promptTokenCount":8},"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2}}""",
            "{\"candidates\":{}}",
            """{"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":3,"thoughtsTokenCount":5,"cachedContentTokenCount":2,"toolUsePromptTokenCount":1,"totalTokenCount":17}}""",
            Event("""{"content":{"parts":[{"text":""}]},"finishReason":"MAX_TOKENS"}""", ""","usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1.5,"thoughtsTokenCount":"x"}"""),
            // After the end, only the usage is read.
            Event("""{"content":{"parts":[{"text":"late"}]},"finishReason":"STOP"}""", ""","usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":4}"""));

        Assert.Equal(document, onePass);
        Assert.Equal(9, onePass.Count);
        Assert.Equal(doc.Usage, pass.Usage);
        Assert.Equal(Baton.Providers.TokenUsage.Of(9, 4), pass.Usage);
        Assert.True(pass.Finished);
        Assert.Equal(Encoding.UTF8.GetString(doc.UsageChunk().Span), Encoding.UTF8.GetString(pass.UsageChunk().Span));
    }

    [Fact]
    public void The_stream_is_named_by_its_first_event_or_by_the_requested_model_and_a_finish_that_is_no_string_is_none()
    {
        var (onePass, document, pass, _) = Translate(
            """{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"responseId":"r\u002d2","modelVersion":7}""",
            Event("""{"content":{"parts":[{"text":"b"}]},"finishReason":1}"""),
            Event("""{"finishReason":null}""", ""","usageMetadata":null"""));

        Assert.Equal(document, onePass);
        Assert.All(onePass, chunk => Assert.Contains("\"id\":\"r-2\"", chunk, StringComparison.Ordinal));
        Assert.All(onePass, chunk => Assert.Contains("\"model\":\"fallback\"", chunk, StringComparison.Ordinal));
        Assert.False(pass.Finished);
        Assert.Null(pass.Usage);
    }

    [Theory]
    // Left to the document's reading: calls, refusals, errors, what would have to be joined, a candidate list that comes twice.
    [InlineData("""{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]}}]}""")]
    [InlineData("""{"promptFeedback":{"blockReason":"SAFETY"}}""")]
    [InlineData("""{"error":{"code":503,"message":"overloaded"}}""")]
    [InlineData("""{"candidates":[{"content":{"parts":[{"text":"a"},{"text":"b"}]}}]}""")]
    [InlineData("""{"candidates":[{"content":{"parts":[{"text":"a","thought":true},{"text":"b","thought":true}]}}]}""")]
    [InlineData("""{"candidates":[],"candidates":[{"content":{"parts":[{"text":"a"}]}}]}""")]
    // Shapes Gemini does not send, and text that is no JSON: the document's reading says what is wrong.
    [InlineData("""{"candidates":[1]}""")]
    [InlineData("""{"candidates":[{"content":"hi"}]}""")]
    [InlineData("""{"candidates":[{"content":{"parts":["hi"]}}]}""")]
    [InlineData("""[1, 2]""")]
    [InlineData("""{"candidates":[{"content":{"parts":[{"text":"a"}]}}]} x""")]
    [InlineData("""{"candidates": [""")]
    public void What_the_pass_does_not_read_is_left_whole_to_the_document(string data)
    {
        using var translator = new GeminiStreamTranslator("fallback", 1_700_000_000);
        var chunks = new List<ReadOnlyMemory<byte>>();
        Assert.True(translator.TryTranslate(Encoding.UTF8.GetBytes(First), chunks));
        var usage = translator.Usage;
        chunks.Clear();

        Assert.False(translator.TryTranslate(Encoding.UTF8.GetBytes(data), chunks));
        Assert.Empty(chunks);
        Assert.Equal(usage, translator.Usage);
        Assert.False(translator.Finished);
    }

    [Theory]
    [InlineData("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\u00ffb\"}]}}]}")]
    [InlineData("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\\n\u00ffb\"}]}}]}")]
    [InlineData("{\"candidates\":[{\"finishReason\":\"STOP\u00ff\"}]}")]
    public void Text_that_is_not_utf8_is_left_to_the_document_which_refuses_it(string json)
    {
        // Written in Latin-1, the \u00ff becomes the byte 0xFF, which starts no UTF-8 character.
        var data = Encoding.Latin1.GetBytes(json);
        using var translator = new GeminiStreamTranslator("fallback", 1_700_000_000);
        var chunks = new List<ReadOnlyMemory<byte>>();

        Assert.False(translator.TryTranslate(data, chunks));
        Assert.Empty(chunks);
        using var document = JsonDocument.Parse(data);
        Assert.Throws<InvalidOperationException>(() => translator.Translate(document.RootElement, chunks));
    }

    [Fact]
    public void Events_made_at_random_read_in_one_pass_give_what_the_document_gives_whenever_the_pass_takes_them()
    {
        var random = new Random(18);
        string[] texts = ["", "a", "line\\nnext", "caf\\u00e9", "\\ud83d\\ude00 \\\"q\\\"", "</b>"];
        string[] values = ["1", "1.5", "-2", "null", "true", "\"s\"", "[]", "{}", "[1,{\"a\":[]}]"];
        string Value() => random.Next(3) == 0 ? values[random.Next(values.Length)] : "\"" + texts[random.Next(texts.Length)] + "\"";
        string Fields(params (string Name, Func<string> Value)[] fields)
        {
            // Any of them, in any order, some twice, with fields of no use among them.
            var chosen = fields.Where(_ => random.Next(3) > 0).Select(f => "\"" + f.Name + "\":" + f.Value()).ToList();
            if (chosen.Count > 0 && random.Next(8) == 0)
            {
                chosen.Add(chosen[random.Next(chosen.Count)]);
            }
            if (random.Next(4) == 0)
            {
                chosen.Add("\"extra\":" + values[random.Next(values.Length)]);
            }
            return "{" + string.Join(",", chosen.OrderBy(_ => random.Next())) + "}";
        }
        string Part() => random.Next(10) == 0 ? values[random.Next(values.Length)] : Fields(
            ("text", Value),
            ("thought", () => random.Next(2) == 0 ? "true" : values[random.Next(values.Length)]),
            ("thoughtSignature", Value),
            ("functionCall", () => random.Next(6) == 0 ? Fields(("name", Value), ("args", () => "{\"x\":1}")) : "{}"));
        string Parts() => random.Next(8) == 0 ? Value() : "[" + string.Join(",", Enumerable.Range(0, random.Next(3)).Select(_ => Part())) + "]";
        string Candidate() => random.Next(12) == 0 ? values[random.Next(values.Length)] : Fields(
            ("content", () => random.Next(8) == 0 ? Value() : Fields(("parts", Parts), ("role", () => "\"model\""))),
            ("finishReason", () => random.Next(2) == 0 ? "\"STOP\"" : Value()),
            ("index", () => "0"));
        string Usage() => random.Next(6) == 0 ? Value() : Fields(
            ("promptTokenCount", () => values[random.Next(3)]), ("candidatesTokenCount", () => "3"), ("thoughtsTokenCount", () => values[random.Next(3)]),
            ("cachedContentTokenCount", () => "2"), ("toolUsePromptTokenCount", () => "1"));
        string Event() => Fields(
            ("candidates", () => random.Next(8) == 0 ? Value() : "[" + string.Join(",", Enumerable.Range(0, random.Next(3)).Select(_ => Candidate())) + "]"),
            ("usageMetadata", Usage),
            ("responseId", Value),
            ("modelVersion", Value),
            ("promptFeedback", () => random.Next(4) == 0 ? Fields(("blockReason", Value)) : "{}"));

        var taken = 0;
        for (var stream = 0; stream < 400; stream++)
        {
            using var pass = new GeminiStreamTranslator("fallback", 1_700_000_000);
            using var doc = new GeminiStreamTranslator("fallback", 1_700_000_000);
            var first = new List<ReadOnlyMemory<byte>>();
            Assert.True(pass.TryTranslate(Encoding.UTF8.GetBytes(First), first));
            using (var parsed = JsonDocument.Parse(First))
            {
                doc.Translate(parsed.RootElement, []);
            }
            for (var i = 0; i < 6; i++)
            {
                var data = Event();
                var chunks = new List<ReadOnlyMemory<byte>>();
                if (!pass.TryTranslate(Encoding.UTF8.GetBytes(data), chunks))
                {
                    Assert.Empty(chunks);
                    continue;
                }
                taken++;
                var expected = new List<ReadOnlyMemory<byte>>();
                using var parsed = JsonDocument.Parse(data);
                doc.Translate(parsed.RootElement, expected);
                Assert.True(expected.Select(c => Encoding.UTF8.GetString(c.Span)).SequenceEqual(chunks.Select(c => Encoding.UTF8.GetString(c.Span))), data);
                Assert.True(doc.Usage == pass.Usage, data);
                Assert.True(doc.Finished == pass.Finished, data);
            }
        }
        // The pass must have taken a good share of them, or the comparison says little.
        Assert.InRange(taken, 300, 2400);
    }
}
