using System.Buffers;
using System.Text.Json;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Streaming;
using Baton.Providers;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// The Responses front's events for <see cref="SseStreamWriter"/>: a <see cref="ResponseStreamTranslator"/> turns the
/// chunks into response events, written straight into the response's buffer; an answer that ended properly is stored
/// (when asked) before its last events go out.
/// </summary>
internal sealed class ResponsesStreamFormatter(ResponseObject response, ResponsesEndpoints.Saving saving) : IStreamEventFormatter, IDisposable
{
    private readonly ResponseStreamTranslator _translator = new(response);

    public bool WritesCostComment => true;

    public void Begin(IBufferWriter<byte> output, in StreamChunk first)
    {
        try
        {
            _translator.Start(first, output);
        }
        catch (JsonException ex)
        {
            throw Malformed(ex);
        }
    }

    public void Chunk(IBufferWriter<byte> output, in StreamChunk chunk)
    {
        try
        {
            _translator.OnChunk(chunk, output);
        }
        catch (JsonException ex)
        {
            throw Malformed(ex);
        }
    }

    public async ValueTask EndAsync(IBufferWriter<byte> output, ChatStreamResult result)
    {
        // The last events wait for the response to be stored: a client that reads response.completed can fetch it.
        var last = new ArrayBufferWriter<byte>(4096);
        var final = _translator.Finish(result.Usage, last);
        await saving.SaveAsync(response, final).ConfigureAwait(false);
        output.Write(last.WrittenSpan);
    }

    public void Close(IBufferWriter<byte> output)
    {
    }

    /// <summary>Cut after content was sent and not resumed: the response failed, and says so; it is never completed.</summary>
    public void Error(IBufferWriter<byte> output, BatonException error)
    {
        _translator.Fail(error, output);
    }

    public void Dispose() => _translator.Dispose();

    private static BatonException Malformed(JsonException ex) => new(StatusCodes.Status502BadGateway, ErrorTypes.Upstream,
        $"The upstream sent a stream chunk that is not valid JSON: {ex.Message}", code: "upstream_malformed", inner: ex);
}
