using System.Text.Json;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Caching;

/// <summary>Turns a stored <c>chat.completion</c> back into the chunks of a stream, for a streamed request answered from the cache.</summary>
public static class CompletionReplay
{
    /// <summary>Content is cut into pieces of about this many characters, at spaces where possible.</summary>
    private const int PieceLength = 48;

    public static List<StreamChunk> Chunks(byte[] completion, TokenUsage usage)
    {
        using var document = JsonDocument.Parse(completion);
        var root = document.RootElement;
        var writer = new ChatChunkWriter(
            root.GetProperty("id").GetString() ?? "chatcmpl-cached",
            root.TryGetProperty("created", out var created) && created.TryGetInt64(out var seconds) ? seconds : 0,
            root.TryGetProperty("model", out var model) ? model.GetString() ?? "" : "");
        var choice = root.GetProperty("choices")[0];
        var message = choice.GetProperty("message");
        var chunks = new List<StreamChunk> { new(writer.Role(), false) };
        if (message.TryGetProperty("reasoning_content", out var reasoning) && reasoning.ValueKind == JsonValueKind.String)
        {
            chunks.AddRange(Pieces(reasoning.GetString()!).Select(p => new StreamChunk(writer.ReasoningContent(p), false)));
        }
        if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
        {
            chunks.AddRange(Pieces(content.GetString()!).Select(p => new StreamChunk(writer.Content(p), false)));
        }
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var call in calls.EnumerateArray())
            {
                var function = call.GetProperty("function");
                chunks.Add(new StreamChunk(writer.ToolCallStart(index++, call.GetProperty("id").GetString()!,
                    function.GetProperty("name").GetString()!, function.GetProperty("arguments").GetString() ?? ""), false));
            }
        }
        chunks.Add(new StreamChunk(writer.Finish(choice.GetProperty("finish_reason").GetString() ?? "stop"), false));
        chunks.Add(new StreamChunk(writer.Usage(usage), true));
        return chunks;
    }

    private static IEnumerable<string> Pieces(string text)
    {
        for (var start = 0; start < text.Length;)
        {
            var end = Math.Min(text.Length, start + PieceLength);
            if (end < text.Length && text.LastIndexOf(' ', end - 1, end - start) is var space && space > start)
            {
                end = space + 1;
            }
            yield return text[start..end];
            start = end;
        }
    }
}
