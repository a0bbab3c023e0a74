using System.Buffers;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Streaming;
using Baton.Providers;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// The Chat Completions front's events: each chunk's bytes as they came (<c>data: {chunk}</c>), the usage-only
/// chunk only when the client asked for usage, <c>data: [DONE]</c> after an answer that ended properly, and
/// OpenAI's error object in place of <c>[DONE]</c> after a cut one.
/// </summary>
internal readonly struct ChatChunkFormatter(bool includeUsage) : IStreamEventFormatter
{
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    public bool WritesCostComment => true;

    public void Begin(IBufferWriter<byte> output, in StreamChunk first)
    {
    }

    public void Chunk(IBufferWriter<byte> output, in StreamChunk chunk)
    {
        if (!chunk.IsUsageOnly || includeUsage)
        {
            Event(output, chunk.Json.Span);
        }
    }

    public ValueTask EndAsync(IBufferWriter<byte> output, ChatStreamResult result) => ValueTask.CompletedTask;

    public void Close(IBufferWriter<byte> output) => output.Write("data: [DONE]\n\n"u8);

    public void Error(IBufferWriter<byte> output, BatonException error) => Event(output, OpenAiErrorWriter.ToUtf8(error));

    /// <summary>One <c>data:</c> event, written in one piece into the response's buffer.</summary>
    private static void Event(IBufferWriter<byte> output, ReadOnlySpan<byte> json)
    {
        var length = DataPrefix.Length + json.Length + EventEnd.Length;
        var span = output.GetSpan(length);
        DataPrefix.CopyTo(span);
        json.CopyTo(span[DataPrefix.Length..]);
        EventEnd.CopyTo(span[(DataPrefix.Length + json.Length)..]);
        output.Advance(length);
    }
}
