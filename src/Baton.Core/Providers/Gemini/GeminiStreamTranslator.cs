using System.Text;
using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Gemini;

/// <summary>
/// Turns the events of <c>streamGenerateContent?alt=sse</c> into OpenAI chunks, for one stream. Each event is a
/// whole <c>GenerateContentResponse</c> holding only the new parts; usage repeats on every event as running
/// totals, and only the last event has a finish reason.
/// </summary>
public sealed class GeminiStreamTranslator(string fallbackModel, long created) : IDisposable
{
    private ChatChunkWriter? _writer;
    private int _toolCalls;
    private readonly EventStrings _strings = new();

    /// <summary>True once the finish reason has arrived: the answer is complete.</summary>
    public bool Finished { get; private set; }

    /// <summary>The latest running totals.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>
    /// Adds the OpenAI chunks for one event (none for an event that carries nothing new). They are lent: valid until
    /// the next event is translated, or the usage chunk written.
    /// </summary>
    public void Translate(JsonElement root, List<ReadOnlyMemory<byte>> chunks)
    {
        _writer?.LendUntilNextEvent();
        var answer = GeminiCandidate.Read(root, _toolCalls);
        Usage = answer.Usage ?? Usage;
        if (Finished)
        {
            return;
        }
        var writer = _writer ?? Begin(answer.ResponseId, answer.ModelVersion, chunks);
        if (answer.Reasoning.Length > 0)
        {
            chunks.Add(writer.ReasoningContent(answer.Reasoning));
        }
        if (answer.Text.Length > 0)
        {
            chunks.Add(writer.Content(answer.Text));
        }
        foreach (var call in answer.ToolCalls)
        {
            // Gemini sends a call whole, never in fragments.
            chunks.Add(writer.ToolCallStart(_toolCalls++, call.Id, call.Name, call.ArgumentsJson));
        }
        if (answer.FinishReason is not null || answer.BlockReason is not null)
        {
            Finish(answer.FinishReason, chunks);
        }
    }

    /// <summary>
    /// <see cref="Translate(JsonElement, List{ReadOnlyMemory{byte}})"/> of an event read in one pass over its bytes
    /// (<see cref="GeminiStreamEvent"/>), with the same chunks: nearly every event of a stream, its text. False, with
    /// nothing added, for what that pass leaves to the document's reading (which then decides, with its errors).
    /// </summary>
    public bool TryTranslate(ReadOnlySpan<byte> data, List<ReadOnlyMemory<byte>> chunks)
    {
        GeminiStreamEvent read;
        try
        {
            if (!GeminiStreamEvent.TryRead(data, _strings, out read))
            {
                return false;
            }
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException)
        {
            // Not JSON, or an escaped string that is not UTF-8: the document's reading names the error.
            return false;
        }
        _writer?.LendUntilNextEvent();
        Usage = read.Usage is { } counts ? GeminiUsage.From(counts) : Usage;
        if (Finished)
        {
            return true;
        }
        var writer = _writer ?? Begin(read.HasResponseId ? Encoding.UTF8.GetString(read.ResponseId) : null,
            read.HasModelVersion ? Encoding.UTF8.GetString(read.ModelVersion) : null, chunks);
        if (!read.Reasoning.IsEmpty)
        {
            chunks.Add(writer.ReasoningContent(read.Reasoning));
        }
        if (!read.Text.IsEmpty)
        {
            chunks.Add(writer.Content(read.Text));
        }
        if (read.Finished)
        {
            Finish(Encoding.UTF8.GetString(read.FinishReason), chunks);
        }
        return true;
    }

    /// <summary>The closing usage-only chunk (lent, as the events' are); call once the stream has finished.</summary>
    public ReadOnlyMemory<byte> UsageChunk()
    {
        var writer = _writer ?? throw new InvalidOperationException("The stream has not started.");
        writer.LendUntilNextEvent();
        return writer.Usage(Usage ?? default);
    }

    /// <summary>Gives back the buffer of unescaped strings.</summary>
    public void Dispose() => _strings.Dispose();

    /// <summary>The first event names the stream; OpenAI streams open with a role chunk.</summary>
    private ChatChunkWriter Begin(string? responseId, string? modelVersion, List<ReadOnlyMemory<byte>> chunks)
    {
        _writer = new ChatChunkWriter(responseId ?? GeminiResponseTranslator.NewId(), created, modelVersion ?? fallbackModel, lendsChunks: true);
        _writer.LendUntilNextEvent();
        chunks.Add(_writer.Role());
        return _writer;
    }

    /// <summary>The finish chunk: <paramref name="finishReason"/> in OpenAI's terms; none, a refused prompt.</summary>
    private void Finish(string? finishReason, List<ReadOnlyMemory<byte>> chunks)
    {
        chunks.Add(_writer!.Finish(finishReason is null ? "content_filter" : GeminiFinishReason.ToOpenAi(finishReason, _toolCalls > 0)));
        Finished = true;
    }
}
