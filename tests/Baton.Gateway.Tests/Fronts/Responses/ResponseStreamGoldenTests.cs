using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Baton.Errors;
using Baton.Gateway.Fronts.Responses;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Gateway.Tests.Fronts.Responses;

/// <summary>
/// The Responses front's stream, byte for byte: the events of a completed, an incomplete and a failed answer, with a
/// request that echoes every field of the response object, against golden files (ids, random per item, taken out);
/// and the response stored for a completed stream is the very object its <c>response.completed</c> event carries.
/// </summary>
public sealed partial class ResponseStreamGoldenTests
{
    private static readonly string[] ToolChunks =
    [
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"content":"a \"quoted\" é 😀 <b>&</b>\n"}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"content":"more"}},{"index":1,"delta":{"content":"second choice"}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}},{"function":{"name":"late","arguments":"{}"},"id":"call_2"}]}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}}""",
    ];

    private static readonly string[] RefusalChunks =
    [
        """{"id":"chatcmpl-2","model":"m-2","choices":[{"index":0,"delta":{"role":"assistant","content":"Part"}}]}""",
        """{"id":"chatcmpl-2","model":"m-2","choices":[{"index":0,"delta":{"refusal":"I can't"}}]}""",
        """{"id":"chatcmpl-2","model":"m-2","choices":[{"index":0,"delta":{"refusal":" do that."}}]}""",
        """{"id":"chatcmpl-2","model":"m-2","choices":[{"index":0,"delta":{"content":"again"}}]}""",
        """{"id":"chatcmpl-2","model":"m-2","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}""",
    ];

    private static readonly string[] CutChunks =
    [
        """{"id":"chatcmpl-3","model":"m-3","choices":[{"index":0,"delta":{"role":"assistant","content":"Before the call"}}]}""",
        """{"id":"chatcmpl-3","model":"m-3","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","function":{"name":"","arguments":"{\"a\""}}]}}]}""",
        """{"id":"chatcmpl-3","model":"m-3","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"named_late","arguments":":1"}}]}}]}""",
    ];

    /// <summary>A request that sets every field the response object echoes.</summary>
    private static ResponsesRequest FullRequest() => new()
    {
        Model = "alias",
        InputItems = [],
        Instructions = "Be \"brief\" — <always>.",
        Tools = [new JsonObject { ["type"] = "function", ["name"] = "get_weather", ["parameters"] = new JsonObject { ["type"] = "object" } }],
        ToolChoice = JsonNode.Parse("""{"type":"function","name":"get_weather"}"""),
        TextFormat = JsonNode.Parse("""{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true}""")!.AsObject(),
        Temperature = 0.2,
        TopP = 0.95,
        MaxOutputTokens = 512,
        ParallelToolCalls = false,
        ReasoningEffort = "low",
        Metadata = new JsonObject { ["task"] = "code_generation", ["note"] = "é" },
        User = "user-1",
        Store = true,
        PreviousResponseId = "resp_0",
    };

    private static (string Events, string? Stored) Run(ResponsesRequest request, string[] chunks, bool withReading, TokenUsage? usage, BatonException? cut)
    {
        using var translator = new ResponseStreamTranslator(new ResponseObject(request, "resp_1", 1735689600));
        using var reader = new StreamChunkReader();
        var output = new ArrayBufferWriter<byte>();
        var first = true;
        foreach (var text in chunks)
        {
            var json = Encoding.UTF8.GetBytes(text);
            StreamChunk chunk;
            if (withReading)
            {
                reader.Read(json);
                chunk = new StreamChunk(json, reader.IsUsageOnly, reader);
            }
            else
            {
                chunk = new StreamChunk(json, IsUsageOnly: false);
            }
            if (first)
            {
                translator.Start(chunk, output);
                first = false;
            }
            translator.OnChunk(chunk, output);
        }
        string? stored = null;
        if (cut is null)
        {
            stored = Encoding.UTF8.GetString(translator.Finish(usage, output).Span);
        }
        else
        {
            translator.Fail(cut, output);
        }
        return (Encoding.UTF8.GetString(output.WrittenSpan), stored);
    }

    [GeneratedRegex("\"(msg|fc)_[0-9a-zA-Z]+\"")]
    private static partial Regex ItemId();

    private static string WithoutIds(string text) => ItemId().Replace(text, "\"id\"");

    private static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fronts", "Golden", name));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_completed_stream_with_text_and_tool_calls_is_written_as_before(bool withReading)
    {
        var (events, stored) = Run(FullRequest(), ToolChunks, withReading, new TokenUsage(9, 4, 13, CachedPromptTokens: 2, ReasoningTokens: 1), cut: null);

        Assert.Equal(Golden("responses-stream-tools.sse"), WithoutIds(events));
        // What is stored is what the client was told the response is.
        var completed = events.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: response.completed\ndata: ", completed, StringComparison.Ordinal);
        Assert.Equal(JsonNode.Parse(completed[(completed.IndexOf("data: ", StringComparison.Ordinal) + 6)..])!["response"]!.ToJsonString(ResponseObject.Json), stored);
        Assert.Contains("\"status\":\"completed\"", stored, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_incomplete_stream_with_text_and_a_refusal_is_written_as_before(bool withReading)
    {
        var request = new ResponsesRequest { Model = "alias", InputItems = [] };

        var (events, stored) = Run(request, RefusalChunks, withReading, usage: null, cut: null);

        Assert.Equal(Golden("responses-stream-incomplete.sse"), WithoutIds(events));
        Assert.Contains("\"incomplete_details\":{\"reason\":\"max_output_tokens\"}", stored, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_stream_cut_for_good_fails_with_what_it_had_as_before(bool withReading)
    {
        var cut = new BatonException(502, ErrorTypes.Upstream, "The upstream cut the stream.", code: "upstream_stream_cut");

        var (events, _) = Run(FullRequest(), CutChunks, withReading, usage: null, cut);

        Assert.Equal(Golden("responses-stream-failed.sse"), WithoutIds(events));
    }
}
