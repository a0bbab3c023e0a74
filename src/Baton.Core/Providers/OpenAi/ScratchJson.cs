using System.Buffers;
using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>
/// The thread's buffer and JSON writer, for JSON written whole in one synchronous call and copied out at its end (a
/// translated stream's chunk, a translated request's body): no buffer or writer is made per document.
/// </summary>
internal static class ScratchJson
{
    /// <summary>A thread's buffer grown past this by a long document is dropped after it, not kept for the thread's life.</summary>
    private const int MaxKeptBuffer = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    /// <summary>The thread's writer, on its emptied buffer (whatever a document that failed half-way left in it).</summary>
    public static Utf8JsonWriter Start()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_json ??= new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions);
        writer.Reset(buffer);
        return writer;
    }

    /// <summary>What the writer from <see cref="Start"/> wrote: valid until the thread's next <see cref="Start"/> or <see cref="Trim"/>.</summary>
    public static ReadOnlySpan<byte> Written(Utf8JsonWriter writer)
    {
        writer.Flush();
        return t_buffer!.WrittenSpan;
    }

    /// <summary>Once the document is copied out: drops a buffer a long document grew.</summary>
    public static void Trim()
    {
        if (t_buffer is { Capacity: > MaxKeptBuffer })
        {
            (t_buffer, t_json) = (null, null);
        }
    }
}
