using System.Buffers;
using Baton.Engine;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Gateway.Streaming;

/// <summary>
/// What one front writes for a streamed answer (OpenAI chunks, Anthropic events, Responses events), called by
/// <see cref="SseStreamWriter"/>, which owns the response, the flushing and the end of a cut stream.
/// </summary>
internal interface IStreamEventFormatter
{
    /// <summary>The cost may go in an SSE comment at the end when the caller asks for it.</summary>
    bool WritesCostComment { get; }

    /// <summary>Writes what precedes the first chunk's events; <paramref name="first"/> is default when the answer has none.</summary>
    void Begin(IBufferWriter<byte> output, in StreamChunk first);

    /// <summary>Writes the events of one chunk.</summary>
    void Chunk(IBufferWriter<byte> output, in StreamChunk chunk);

    /// <summary>Writes what ends an answer that ended properly, before the cost comment.</summary>
    ValueTask EndAsync(IBufferWriter<byte> output, ChatStreamResult result);

    /// <summary>Writes the very last bytes of an answer that ended properly, after the cost comment.</summary>
    void Close(IBufferWriter<byte> output);

    /// <summary>Writes the error event of a stream cut after content was sent, in place of a proper end.</summary>
    void Error(IBufferWriter<byte> output, BatonException error);
}
