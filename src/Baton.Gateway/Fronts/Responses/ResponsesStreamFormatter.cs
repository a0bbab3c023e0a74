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
/// chunks into response events; an answer that ended properly is stored (when asked) before its last events go out.
/// </summary>
internal sealed class ResponsesStreamFormatter(ResponseObject response, ResponsesEndpoints.Saving saving) : IStreamEventFormatter
{
    private readonly ResponseStreamTranslator _translator = new(response);
    private readonly List<byte[]> _events = [];

    public bool WritesCostComment => true;

    public void Begin(IBufferWriter<byte> output, in StreamChunk first)
    {
        try
        {
            _translator.Start(first.Json.Span, _events);
        }
        catch (JsonException ex)
        {
            throw Malformed(ex);
        }
        Write(output);
    }

    public void Chunk(IBufferWriter<byte> output, in StreamChunk chunk)
    {
        try
        {
            _translator.OnChunk(chunk.Json.Span, _events);
        }
        catch (JsonException ex)
        {
            throw Malformed(ex);
        }
        Write(output);
    }

    public async ValueTask EndAsync(IBufferWriter<byte> output, ChatStreamResult result)
    {
        var final = _translator.Finish(result.Usage, _events);
        await saving.SaveAsync(response, final).ConfigureAwait(false);
        Write(output);
    }

    public void Close(IBufferWriter<byte> output)
    {
    }

    /// <summary>Cut after content was sent and not resumed: the response failed, and says so; it is never completed.</summary>
    public void Error(IBufferWriter<byte> output, BatonException error)
    {
        _translator.Fail(error, _events);
        Write(output);
    }

    private void Write(IBufferWriter<byte> output)
    {
        foreach (var e in _events)
        {
            output.Write(e);
        }
        _events.Clear();
    }

    private static BatonException Malformed(JsonException ex) => new(StatusCodes.Status502BadGateway, ErrorTypes.Upstream,
        $"The upstream sent a stream chunk that is not valid JSON: {ex.Message}", code: "upstream_malformed", inner: ex);
}
