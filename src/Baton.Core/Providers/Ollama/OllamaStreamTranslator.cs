using Baton.Providers.OpenAi;

namespace Baton.Providers.Ollama;

/// <summary>
/// Turns the lines of Ollama's NDJSON stream into OpenAI <c>chat.completion.chunk</c> payloads, in the
/// order OpenAI sends them: a role chunk first, then thinking (as <c>reasoning_content</c>), text and tool
/// calls as they come, and on the <c>done</c> line a finish chunk followed by a usage-only chunk.
/// </summary>
internal sealed class OllamaStreamTranslator(string fallbackModel, TimeProvider time)
{
    private ChatChunkWriter? _writer;
    private int _toolCalls;

    /// <summary>True once the <c>done</c> line was read: the answer is complete.</summary>
    public bool Finished { get; private set; }

    public TokenUsage? Usage { get; private set; }

    /// <summary>Adds the chunks one line stands for to <paramref name="output"/> (none for an empty delta).</summary>
    public void Translate(OllamaMessage line, List<StreamChunk> output)
    {
        if (Finished)
        {
            return;
        }
        if (_writer is null)
        {
            // Every chunk of a stream carries the same id, created and model, taken from the first line.
            _writer = new ChatChunkWriter(OllamaIds.Completion(), (line.CreatedAt ?? time.GetUtcNow()).ToUnixTimeSeconds(), line.Model ?? fallbackModel);
            output.Add(new StreamChunk(_writer.Role(), false));
        }
        if (line.Thinking.Length > 0)
        {
            output.Add(new StreamChunk(_writer.ReasoningContent(line.Thinking), false));
        }
        if (line.Content.Length > 0)
        {
            output.Add(new StreamChunk(_writer.Content(line.Content), false));
        }
        foreach (var (id, name, arguments) in line.ToolCalls)
        {
            // Ollama sends each call whole, so one chunk carries its name and all its arguments.
            var index = _toolCalls++;
            output.Add(new StreamChunk(_writer.ToolCallStart(index, id ?? OllamaIds.Call(index), name, arguments), false));
        }
        if (line.Done)
        {
            Finished = true;
            Usage = line.Usage;
            output.Add(new StreamChunk(_writer.Finish(OllamaMessage.FinishReason(_toolCalls > 0, line.DoneReason)), false));
            output.Add(new StreamChunk(_writer.Usage(line.Usage), true));
        }
    }
}
