using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Engine;

/// <summary>
/// Remembers what a stream has delivered so far: the answer's text, and whether a tool call began. If the
/// stream is cut, this is what another deployment is asked to continue from. Takes each chunk's text from the
/// chunk's one reading (<see cref="StreamChunkReader"/>) and keeps it as UTF-8 in pooled buffers, decoded only
/// when the whole text is asked for (a resume, a count, a captured span).
/// </summary>
public sealed class StreamTextTap : IDisposable
{
    private Utf8TextBuffer _text;
    private Utf8TextBuffer _otherOutput;
    private StreamChunkReader? _reader;

    /// <summary>The answer's text delivered so far.</summary>
    public string Text => _text.ToString();

    /// <summary>
    /// Output the upstream billed besides the answer's text: tool-call names and arguments, and streamed reasoning.
    /// Counted, with the text, when the upstream reports no usage; never part of what a resumed stream continues.
    /// </summary>
    public string OtherOutputText => _otherOutput.ToString();

    /// <summary>The length of the text delivered so far, in UTF-8 bytes: where the next resumed segment's text starts.</summary>
    public int TextLength => _text.Length;

    /// <summary>The text delivered from UTF-8 byte <paramref name="start"/> (a <see cref="TextLength"/>) on: what one resumed segment added.</summary>
    public string TextFrom(int start) => _text.ToString(start);

    /// <summary>Some text was delivered.</summary>
    public bool HasText => _text.Length > 0;

    /// <summary>A tool call cannot be resumed halfway: its arguments would have to be joined across models.</summary>
    public bool HasToolCall { get; private set; }

    /// <summary>A choice gave a finish reason.</summary>
    public bool HasFinished { get; private set; }

    /// <summary>Takes one chunk's text, finish and tool calls.</summary>
    /// <exception cref="System.Text.Json.JsonException">A chunk without a reading is not valid JSON.</exception>
    public void Observe(in StreamChunk chunk)
    {
        var reading = StreamChunkReader.Of(chunk, ref _reader);
        HasFinished |= reading.HasFinishReason;
        foreach (var text in reading.Texts)
        {
            switch (text.Kind)
            {
                case ChunkTextKind.Content:
                    _text.Append(reading.TextOf(text));
                    break;
                case ChunkTextKind.ReasoningContent or ChunkTextKind.Reasoning or ChunkTextKind.ToolName or ChunkTextKind.ToolArguments:
                    _otherOutput.Append(reading.TextOf(text));
                    break;
                case ChunkTextKind.ToolCallStart:
                    HasToolCall = true;
                    break;
            }
        }
    }

    /// <summary>Takes one chunk given as its bytes (read here).</summary>
    public void Observe(ReadOnlyMemory<byte> chunk) => Observe(new StreamChunk(chunk, IsUsageOnly: false));

    /// <summary>Returns the pooled buffers; the tap is empty afterwards.</summary>
    public void Dispose()
    {
        _text.Dispose();
        _otherOutput.Dispose();
        _reader?.Dispose();
    }
}
