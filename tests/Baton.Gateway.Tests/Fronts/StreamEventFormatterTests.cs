using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Gateway.Fronts.Anthropic;
using Baton.Gateway.Fronts.Responses;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Gateway.Tests.Fronts;

/// <summary>
/// The Anthropic and Responses fronts translate each chunk from the reading the provider already made of it: the
/// events must be those of the chunk's own fields, the same whether a reading came with the chunk or not, in the
/// front's order whatever the order of the delta's fields, and only for the first choice.
/// </summary>
public sealed class StreamEventFormatterTests
{
    private static readonly string[] Chunks =
    [
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"content":"a \"quoted\" é 😀\n","reasoning_signature":"sig","reasoning_content":"think"}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"reasoning_signature":"ignored: no thinking block is open"}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"content":"more"}},{"index":1,"delta":{"content":"second choice"}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}},{"function":{"name":"late","arguments":"{}"},"id":"call_2"}]}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
        """{"id":"chatcmpl-1","model":"m-1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}""",
    ];

    /// <summary>Each chunk as the provider hands it on (with its reading), or as a rewritten chunk comes (without).</summary>
    private static IEnumerable<StreamChunk> Stream(bool withReading, StreamChunkReader reader)
    {
        foreach (var chunk in Chunks)
        {
            var json = Encoding.UTF8.GetBytes(chunk);
            if (!withReading)
            {
                yield return new StreamChunk(json, IsUsageOnly: false);
                continue;
            }
            reader.Read(json);
            yield return new StreamChunk(json, reader.IsUsageOnly, reader);
        }
    }

    private static List<(string Name, JsonObject Data)> Events(ReadOnlySpan<byte> sse)
    {
        var events = new List<(string, JsonObject)>();
        foreach (var block in Encoding.UTF8.GetString(sse).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            events.Add((lines[0]["event: ".Length..], JsonNode.Parse(lines[1]["data: ".Length..])!.AsObject()));
        }
        return events;
    }

    private static byte[] Anthropic(bool withReading)
    {
        using var reader = new StreamChunkReader();
        var output = new ArrayBufferWriter<byte>();
        using var writer = new AnthropicEventWriter(output);
        foreach (var chunk in Stream(withReading, reader))
        {
            writer.Chunk(chunk);
        }
        writer.Finish(null);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void Anthropic_events_follow_the_chunks_fields_in_the_messages_order()
    {
        var events = Events(Anthropic(withReading: true));

        Assert.Equal(
        [
            "message_start", "ping",
            "content_block_start", "content_block_delta", "content_block_delta", // thinking first, then its signature
            "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta", // the text
            "content_block_stop", "content_block_start", "content_block_delta", // call 0
            "content_block_stop", "content_block_start", "content_block_delta", // call 1, with no index
            "content_block_delta", // call 0 again
            "content_block_stop", "message_delta", "message_stop",
        ], events.Select(e => e.Name));
        Assert.All(events, e => Assert.Equal(e.Name, (string?)e.Data["type"]));
        Assert.Equal("msg_chatcmpl-1", (string?)events[0].Data["message"]!["id"]);
        Assert.Equal("m-1", (string?)events[0].Data["message"]!["model"]);
        Assert.Equal("think", (string?)events[3].Data["delta"]!["thinking"]);
        Assert.Equal("sig", (string?)events[4].Data["delta"]!["signature"]);
        Assert.Equal("a \"quoted\" é 😀\n", (string?)events[7].Data["delta"]!["text"]);
        // The second choice is not translated.
        Assert.Equal("more", (string?)events[8].Data["delta"]!["text"]);
        Assert.Equal(JsonNode.Parse("""{"type":"tool_use","id":"call_1","name":"get_weather","input":{}}"""), events[10].Data["content_block"], JsonNode.DeepEquals);
        Assert.Equal("{\"city\":", (string?)events[11].Data["delta"]!["partial_json"]);
        Assert.Equal(JsonNode.Parse("""{"type":"tool_use","id":"call_2","name":"late","input":{}}"""), events[13].Data["content_block"], JsonNode.DeepEquals);
        Assert.Equal("{}", (string?)events[14].Data["delta"]!["partial_json"]);
        // Arguments of a call already begun go to its own block.
        Assert.Equal(2, (int?)events[15].Data["index"]);
        Assert.Equal("\"Paris\"}", (string?)events[15].Data["delta"]!["partial_json"]);
        Assert.Equal("tool_use", (string?)events[17].Data["delta"]!["stop_reason"]);
        Assert.Equal(4, (int?)events[17].Data["usage"]!["output_tokens"]);
        // Text is written as providers send it: quotes escaped, non-ASCII as is.
        Assert.Contains("a \\\"quoted\\\" é", Encoding.UTF8.GetString(Anthropic(withReading: true)), StringComparison.Ordinal);
    }

    [Fact]
    public void Anthropic_events_are_the_same_whether_the_chunk_came_with_its_reading_or_not()
    {
        Assert.Equal(Encoding.UTF8.GetString(Anthropic(withReading: false)), Encoding.UTF8.GetString(Anthropic(withReading: true)));
    }

    private static byte[] Responses(bool withReading)
    {
        var request = new ResponsesRequest { Model = "alias", InputItems = [] };
        using var translator = new ResponseStreamTranslator(new ResponseObject(request, "resp_1", 1735689600));
        using var reader = new StreamChunkReader();
        var output = new ArrayBufferWriter<byte>();
        var first = true;
        foreach (var chunk in Stream(withReading, reader))
        {
            if (first)
            {
                translator.Start(chunk, output);
                first = false;
            }
            translator.OnChunk(chunk, output);
        }
        translator.Finish(new TokenUsage(9, 4, 13), output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void Responses_events_follow_the_chunks_fields_numbered_in_sequence()
    {
        var events = Events(Responses(withReading: true));

        Assert.Equal(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta",
            "response.output_item.added", "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.completed",
        ], events.Select(e => e.Name));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e.Data["sequence_number"]!));
        Assert.All(events, e => Assert.Equal(e.Name, (string?)e.Data["type"]));
        Assert.Equal("m-1", (string?)events[0].Data["response"]!["model"]);

        var delta = events[4].Data;
        Assert.Equal(["type", "sequence_number", "item_id", "output_index", "content_index", "delta", "logprobs"], delta.Select(p => p.Key));
        Assert.Equal("a \"quoted\" é 😀\n", (string?)delta["delta"]);
        Assert.Equal("more", (string?)events[5].Data["delta"]);
        Assert.Equal("a \"quoted\" é 😀\nmore", (string?)events[6].Data["text"]);
        Assert.Equal(["type", "sequence_number", "item_id", "output_index", "delta"], events[10].Data.Select(p => p.Key));
        Assert.Equal("{\"city\":", (string?)events[10].Data["delta"]);
        Assert.Equal("{\"city\":\"Paris\"}", (string?)events[14].Data["arguments"]);
        Assert.Equal("get_weather", (string?)events[14].Data["name"]);
        Assert.Equal("late", (string?)events[16].Data["name"]);
        Assert.Equal("call_2", (string?)events[17].Data["item"]!["call_id"]);
        Assert.Equal(13, (int?)events[18].Data["response"]!["usage"]!["total_tokens"]);
    }

    [Fact]
    public void Responses_events_are_the_same_whether_the_chunk_came_with_its_reading_or_not()
    {
        // Ids are random per item: compare with them taken out.
        static string WithoutIds(byte[] sse) => System.Text.RegularExpressions.Regex.Replace(Encoding.UTF8.GetString(sse), "\"(msg|fc)_[0-9a-zA-Z]+\"", "\"id\"");

        Assert.Equal(WithoutIds(Responses(withReading: false)), WithoutIds(Responses(withReading: true)));
    }
}
