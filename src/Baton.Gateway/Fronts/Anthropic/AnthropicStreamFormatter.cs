using System.Buffers;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Streaming;
using Baton.Providers;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>The Messages front's events for <see cref="SseStreamWriter"/>: each chunk translated by an <see cref="AnthropicEventWriter"/>.</summary>
internal sealed class AnthropicStreamFormatter : IStreamEventFormatter, IDisposable
{
    private AnthropicEventWriter? _events;

    /// <summary>Anthropic's stream has no cost comment; the cost goes only in a trailer.</summary>
    public bool WritesCostComment => false;

    public void Begin(IBufferWriter<byte> output, in StreamChunk first) => _events = new AnthropicEventWriter(output);

    public void Chunk(IBufferWriter<byte> output, in StreamChunk chunk) => Events.Chunk(chunk);

    public ValueTask EndAsync(IBufferWriter<byte> output, ChatStreamResult result)
    {
        Events.Finish(result.Usage);
        return ValueTask.CompletedTask;
    }

    public void Close(IBufferWriter<byte> output)
    {
    }

    /// <summary>Cut after content was sent: an error event, and never <c>message_stop</c>, so no client takes the part for the whole.</summary>
    public void Error(IBufferWriter<byte> output, BatonException error) => Events.Error(error);

    public void Dispose() => _events?.Dispose();

    private AnthropicEventWriter Events => _events ?? throw new InvalidOperationException("The stream has not begun.");
}
