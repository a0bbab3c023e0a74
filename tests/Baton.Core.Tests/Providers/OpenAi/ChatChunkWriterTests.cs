using System.Text;
using System.Text.Json.Nodes;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Core.Tests.Providers.OpenAi;

/// <summary>The chunks translators write: each whole and on its own, whatever was written before it on the thread.</summary>
public sealed class ChatChunkWriterTests
{
    [Fact]
    public void Two_streams_written_in_turn_on_one_thread_keep_their_own_id_and_model()
    {
        var first = new ChatChunkWriter("chatcmpl-1", 100, "model-a");
        var second = new ChatChunkWriter("chatcmpl-2", 200, "model-b");

        var chunks = new[] { first.Role(), second.Content("hello"), first.Content("héllo \"world\""u8), second.Usage(TokenUsage.Of(3, 2)) }
            .Select(c => JsonNode.Parse(c.Span)!).ToList();

        Assert.Equal(["chatcmpl-1", "chatcmpl-2", "chatcmpl-1", "chatcmpl-2"], chunks.Select(c => c["id"]!.GetValue<string>()));
        Assert.Equal(["model-a", "model-b", "model-a", "model-b"], chunks.Select(c => c["model"]!.GetValue<string>()));
        Assert.Equal("héllo \"world\"", chunks[2]["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        Assert.Empty(chunks[3]["choices"]!.AsArray());
        Assert.Equal(5, chunks[3]["usage"]!["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public void A_chunk_longer_than_the_buffer_kept_is_written_whole_and_the_next_one_after_it_too()
    {
        var writer = new ChatChunkWriter("chatcmpl-1", 100, "m");
        var text = new string('x', 200_000);

        var big = JsonNode.Parse(writer.ToolCallArguments(0, text).Span)!;
        var small = JsonNode.Parse(writer.Content("after"u8).Span)!;

        Assert.Equal(text, big["choices"]![0]!["delta"]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("after", small["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        Assert.Equal(Encoding.UTF8.GetString(new ChatChunkWriter("chatcmpl-1", 100, "m").Content("after").Span), Encoding.UTF8.GetString(writer.Content("after"u8).Span));
    }

    [Fact]
    public void A_lending_writer_writes_the_same_bytes_each_valid_until_its_next_chunk()
    {
        var owning = new ChatChunkWriter("chatcmpl-1", 100, "m");
        var lending = new ChatChunkWriter("chatcmpl-1", 100, "m", lendsChunks: true);

        var first = lending.Content("first");
        var firstBytes = first.ToArray();
        var second = lending.ToolCallArguments(0, new string('y', 5_000));

        Assert.Equal(owning.Content("first").ToArray(), firstBytes);
        Assert.Equal(owning.ToolCallArguments(0, new string('y', 5_000)).ToArray(), second.ToArray());
        // The owning writer's chunks are arrays of their own; the lending one's share its one buffer.
        Assert.False(owning.Role().Span.Overlaps(owning.Role().Span));
        Assert.True(lending.Role().Span.Overlaps(lending.Finish("stop").Span));
    }

    [Fact]
    public void A_writer_lending_an_events_chunks_keeps_them_all_valid_until_the_next_event_and_then_reuses_its_buffer()
    {
        var owning = new ChatChunkWriter("chatcmpl-1", 100, "m");
        var lending = new ChatChunkWriter("chatcmpl-1", 100, "m", lendsChunks: true);

        lending.LendUntilNextEvent();
        var role = lending.Role();
        var content = lending.Content("first");
        // A chunk larger than what is left is written to a larger buffer; the event's earlier chunks stay where they are.
        var big = lending.ToolCallArguments(0, new string('y', 5_000));
        var finish = lending.Finish("stop");

        Assert.Equal(owning.Role().ToArray(), role.ToArray());
        Assert.Equal(owning.Content("first").ToArray(), content.ToArray());
        Assert.Equal(owning.ToolCallArguments(0, new string('y', 5_000)).ToArray(), big.ToArray());
        Assert.Equal(owning.Finish("stop").ToArray(), finish.ToArray());
        Assert.False(role.Span.Overlaps(content.Span));
        Assert.False(big.Span.Overlaps(finish.Span));

        // The next event's chunks are written over the buffer again, from its start.
        lending.LendUntilNextEvent();
        var next = lending.Content("next");
        Assert.True(next.Span.Overlaps(finish.Span));
        Assert.Equal(owning.Content("next").ToArray(), next.ToArray());
    }
}
