using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Baton.Engine;

/// <summary>
/// Remembers what a stream has delivered so far: the answer's text, and whether a tool call began. If the
/// stream is cut, this is what another deployment is asked to continue from. Reads each chunk with a
/// forward-only reader; only the text itself is kept.
/// </summary>
public sealed class StreamTextTap
{
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _otherOutput = new();

    public string Text => _text.ToString();

    /// <summary>
    /// Output the upstream billed besides the answer's text: tool-call names and arguments, and streamed reasoning.
    /// Counted, with the text, when the upstream reports no usage; never part of what a resumed stream continues.
    /// </summary>
    public string OtherOutputText => _otherOutput.ToString();

    /// <summary>The text delivered from <paramref name="start"/> on (what one resumed segment added).</summary>
    public string TextFrom(int start) => _text.ToString(start, _text.Length - start);

    public bool HasText => _text.Length > 0;

    /// <summary>A tool call cannot be resumed halfway: its arguments would have to be joined across models.</summary>
    public bool HasToolCall { get; private set; }

    public bool HasFinished { get; private set; }

    /// <summary>Copies the string token into the text without allocating a string per chunk.</summary>
    private void AppendString(ref Utf8JsonReader reader) => AppendString(ref reader, _text);

    private static void AppendString(ref Utf8JsonReader reader, StringBuilder text)
    {
        var length = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        var buffer = ArrayPool<char>.Shared.Rent(Math.Max(1, length));
        try
        {
            // An unescaped string never has more chars than its UTF-8 bytes.
            text.Append(buffer, 0, reader.CopyString(buffer));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    public void Observe(ReadOnlySpan<byte> chunk)
    {
        var reader = new Utf8JsonReader(chunk);
        var depth = 0;
        var inDelta = -1;
        var inToolCalls = -1;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    depth++;
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    depth--;
                    if (depth < inDelta)
                    {
                        inDelta = -1;
                    }
                    if (depth < inToolCalls)
                    {
                        inToolCalls = -1;
                    }
                    break;
                case JsonTokenType.PropertyName:
                    if (reader.ValueTextEquals("delta"u8))
                    {
                        inDelta = depth + 1;
                    }
                    else if (reader.ValueTextEquals("finish_reason"u8))
                    {
                        reader.Read();
                        HasFinished |= reader.TokenType == JsonTokenType.String;
                    }
                    else if (inDelta == depth && reader.ValueTextEquals("content"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            AppendString(ref reader);
                        }
                    }
                    else if (inDelta == depth && (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8)))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            AppendString(ref reader, _otherOutput);
                        }
                    }
                    else if (inDelta == depth && reader.ValueTextEquals("tool_calls"u8))
                    {
                        HasToolCall = true;
                        inToolCalls = depth + 1;
                    }
                    else if (inToolCalls > 0 && depth > inToolCalls && (reader.ValueTextEquals("arguments"u8) || reader.ValueTextEquals("name"u8)))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            AppendString(ref reader, _otherOutput);
                        }
                    }
                    break;
            }
        }
    }
}
