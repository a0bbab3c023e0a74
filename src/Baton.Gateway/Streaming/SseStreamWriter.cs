using System.Buffers;
using System.Globalization;
using System.Text;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Endpoints;
using Baton.Providers;
using Baton.Requests;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Baton.Gateway.Streaming;

/// <summary>
/// The one write loop of the streaming fronts: commits the response (route headers, a cost trailer where the
/// protocol has them, <c>text/event-stream</c>, no buffering), writes each chunk through the front's
/// <see cref="IStreamEventFormatter"/> straight into the response's pooled pipe, and flushes what is written
/// whenever the upstream has nothing ready or <see cref="MaxUnflushedBytes"/> are waiting. A stream cut after
/// content was sent ends with the front's error event, never with its proper end.
/// </summary>
internal static class SseStreamWriter
{
    /// <summary>The most a stream writes before sending, when the upstream's chunks arrive faster than they are sent.</summary>
    internal const int MaxUnflushedBytes = 16 * 1024;

    /// <summary>
    /// Writes an answer the engine began (its first chunk already received) to the response, ends its enumeration,
    /// and disposes of <paramref name="formatter"/> when it is <see cref="IDisposable"/>; the caller disposes of
    /// <paramref name="result"/>. The front awaits <c>engine.StreamAsync</c> itself: its own state machine is then the
    /// only one that waits for the upstream, and this method, whose reads and flushes normally complete at once,
    /// allocates none. A failure before the stream began is the front's to answer as a plain error response.
    /// </summary>
    public static async Task WriteAsync<TFormatter>(HttpContext http, ChatStreamResult result, TimeProvider time, long started, TFormatter formatter)
        where TFormatter : IStreamEventFormatter
    {
        var aborted = http.RequestAborted;
        var chunks = result.ReadAsync(aborted).GetAsyncEnumerator(aborted);
        await using (chunks.ConfigureAwait(false))
        using (formatter as IDisposable) // for a struct formatter with nothing to dispose (Chat Completions'), this compiles away
        {
            var ownTime = time.GetElapsedTime(started);
            var hasChunk = await chunks.MoveNextAsync().ConfigureAwait(false);
            var response = http.Response;
            ChatCompletionsEndpoint.WriteRouteHeaders(response, result.Route, ownTime, time);
            ChatCompletionsEndpoint.WriteBudgetWarnings(response, result.BudgetWarnings);
            var costTrailer = result.CostUsd is not null && response.SupportsTrailers();
            if (costTrailer)
            {
                response.DeclareTrailer(GatewayHeaders.CostUsd);
            }
            var costComment = formatter.WritesCostComment && result.CostUsd is not null
                && http.Request.Headers[GatewayHeaders.StreamCost] == "true";
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

            var pipe = response.BodyWriter;
            // Kestrel's pipe says how much is written and not yet sent; another (a test host's) is counted through a
            // wrapper.
            var counting = pipe.CanGetUnflushedBytes ? null : new CountingBufferWriter(pipe);
            IBufferWriter<byte> output = counting is null ? pipe : counting;
            try
            {
                formatter.Begin(output, hasChunk ? chunks.Current : default);
                var resumeAnnounced = false;
                while (hasChunk)
                {
                    if (!resumeAnnounced && result.Route.StreamResumed)
                    {
                        // Headers are long gone; an SSE comment tells whoever reads the raw stream, and SDKs skip it.
                        Comment(output, $"baton resumed the stream on {result.Route.Deployment} after an interruption");
                        resumeAnnounced = true;
                    }
                    formatter.Chunk(output, chunks.Current);
                    // Chunks the upstream already sent go out together; before waiting for the upstream, everything
                    // written is sent, so no chunk is ever held back while the upstream is silent.
                    var next = chunks.MoveNextAsync();
                    var unflushed = counting?.Unflushed ?? pipe.UnflushedBytes;
                    if (unflushed > 0 && (!next.IsCompleted || unflushed >= MaxUnflushedBytes))
                    {
                        await pipe.FlushAsync(aborted).ConfigureAwait(false);
                        counting?.Flushed();
                    }
                    hasChunk = await next.ConfigureAwait(false);
                }
                await formatter.EndAsync(output, result).ConfigureAwait(false);
                // Headers went out before the usage was known: the cost goes in a trailer where the protocol has them
                // (HTTP/2), and in an SSE comment for clients that ask (SDKs skip comments, strict parsers may not).
                // Only then does the answer wait for its books to be closed (otherwise done once the client has it all)
                // and for tokens Baton counts itself (an upstream that reported no usage).
                if ((costComment || costTrailer) && await result.GetCostAsync(aborted).ConfigureAwait(false) is { } cost)
                {
                    var formatted = ChatCompletionsEndpoint.FormatCost(cost);
                    if (costComment)
                    {
                        Comment(output, $"{GatewayHeaders.CostUsd} {formatted}");
                    }
                    if (costTrailer)
                    {
                        response.AppendTrailer(GatewayHeaders.CostUsd, formatted);
                    }
                }
                formatter.Close(output);
                var flushed = await pipe.FlushAsync(aborted).ConfigureAwait(false);
                if (!flushed.IsCompleted)
                {
                    // The response ends here (its last chunk, or its trailers): the client has the whole answer while
                    // the stream's accounting, span and record are closed behind it, when the result is disposed of.
                    await response.CompleteAsync().ConfigureAwait(false);
                }
            }
            catch (BatonException ex)
            {
                // The answer was cut after content was sent: say so in the stream, and never write the proper end,
                // so no client mistakes the partial answer for a complete one.
                formatter.Error(output, ex);
                await pipe.FlushAsync(aborted).ConfigureAwait(false);
            }
        }
    }

    /// <summary>An SSE comment line (SDKs skip it).</summary>
    internal static void Comment(IBufferWriter<byte> output, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text) + 4;
        var span = output.GetSpan(length);
        span[0] = (byte)':';
        span[1] = (byte)' ';
        var written = Encoding.UTF8.GetBytes(text, span[2..]);
        span[2 + written] = (byte)'\n';
        span[3 + written] = (byte)'\n';
        output.Advance(length);
    }

    /// <summary>The response's pipe, counting what was written since the last flush, for a pipe that does not say.</summary>
    private sealed class CountingBufferWriter(IBufferWriter<byte> inner) : IBufferWriter<byte>
    {
        public long Unflushed { get; private set; }

        public void Flushed() => Unflushed = 0;

        public void Advance(int count)
        {
            inner.Advance(count);
            Unflushed += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    }
}
