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
            .Select(c => JsonNode.Parse(c)!).ToList();

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

        var big = JsonNode.Parse(writer.ToolCallArguments(0, text))!;
        var small = JsonNode.Parse(writer.Content("after"u8))!;

        Assert.Equal(text, big["choices"]![0]!["delta"]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("after", small["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        Assert.Equal(Encoding.UTF8.GetString(new ChatChunkWriter("chatcmpl-1", 100, "m").Content("after")), Encoding.UTF8.GetString(writer.Content("after"u8)));
    }
}
