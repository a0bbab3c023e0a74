using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Gemini;

/// <summary>
/// Turns the events of <c>streamGenerateContent?alt=sse</c> into OpenAI chunks, for one stream. Each event is a
/// whole <c>GenerateContentResponse</c> holding only the new parts; usage repeats on every event as running
/// totals, and only the last event has a finish reason.
/// </summary>
public sealed class GeminiStreamTranslator(string fallbackModel, long created)
{
    private ChatChunkWriter? _writer;
    private int _toolCalls;

    /// <summary>True once the finish reason has arrived: the answer is complete.</summary>
    public bool Finished { get; private set; }

    /// <summary>The latest running totals.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>Adds the OpenAI chunks for one event (none for an event that carries nothing new).</summary>
    public void Translate(JsonElement root, List<ReadOnlyMemory<byte>> chunks)
    {
        var answer = GeminiCandidate.Read(root, _toolCalls);
        Usage = answer.Usage ?? Usage;
        if (Finished)
        {
            return;
        }
        if (_writer is null)
        {
            // The first event names the stream; OpenAI streams open with a role chunk.
            _writer = new ChatChunkWriter(answer.ResponseId ?? GeminiResponseTranslator.NewId(), created, answer.ModelVersion ?? fallbackModel);
            chunks.Add(_writer.Role());
        }
        if (answer.Reasoning.Length > 0)
        {
            chunks.Add(_writer.ReasoningContent(answer.Reasoning));
        }
        if (answer.Text.Length > 0)
        {
            chunks.Add(_writer.Content(answer.Text));
        }
        foreach (var call in answer.ToolCalls)
        {
            // Gemini sends a call whole, never in fragments.
            chunks.Add(_writer.ToolCallStart(_toolCalls++, call.Id, call.Name, call.ArgumentsJson));
        }
        if (answer.FinishReason is not null || answer.BlockReason is not null)
        {
            var finish = answer.FinishReason is null ? "content_filter" : GeminiFinishReason.ToOpenAi(answer.FinishReason, _toolCalls > 0);
            chunks.Add(_writer.Finish(finish));
            Finished = true;
        }
    }

    /// <summary>The closing usage-only chunk; call once the stream has finished.</summary>
    public ReadOnlyMemory<byte> UsageChunk()
    {
        var writer = _writer ?? throw new InvalidOperationException("The stream has not started.");
        return writer.Usage(Usage ?? default);
    }
}
