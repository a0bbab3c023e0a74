using System.Net;
using System.Net.Http.Headers;
using Baton.Engine;
using Baton.Providers;
using Baton.Requests;

namespace Baton.Client;

/// <summary>
/// An <see cref="HttpMessageHandler"/> that answers OpenAI SDK requests with the Baton engine, in process.
/// This lets the library face reuse the OpenAI SDK and Microsoft.Extensions.AI.OpenAI conversions unchanged:
/// the engine sees exactly the JSON an OpenAI client sends to the gateway. Failures propagate as
/// <see cref="Errors.BatonException"/>s, so library callers get Baton's typed errors.
/// </summary>
internal sealed class InProcessTransport(BatonEngine engine) : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var bytes = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (BatonCallContext.Current?.PromptContext is { Count: > 0 } context)
        {
            bytes = PromptContext.Inject(bytes, context);
        }
        var chat = ChatRequestParser.Parse(bytes);
        BatonCallContext.Current?.ApplyTo(chat);
        if (chat.Stream)
        {
            var stream = await engine.StreamAsync(chat, cancellationToken).ConfigureAwait(false);
            Record(() => stream.Route, stream.GetCostAsync);
            var content = new StreamContent(new SseChunkStream(stream, chat.IncludeUsage, cancellationToken));
            content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
        }

        using var result = await engine.CompleteAsync(chat, cancellationToken).ConfigureAwait(false);
        var route = result.Route;
        var cost = result.CostUsd;
        Record(() => route, _ => ValueTask.FromResult(cost));
        var body = new ByteArrayContent(result.Body.ToArray());
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = body, RequestMessage = request };
    }

    /// <summary>A stream's route and cost are read when the caller finishes it: a resumed stream changes deployment, and the cost is known at the end.</summary>
    private static void Record(Func<RouteInfo> route, Func<CancellationToken, ValueTask<decimal?>> cost)
    {
        if (BatonCallContext.Current is { } context)
        {
            context.RouteSource = route;
            context.CostSource = cost;
        }
    }

    /// <summary>Exposes a Baton stream as SSE bytes, produced only as the reader asks for them.</summary>
    private sealed class SseChunkStream(ChatStreamResult stream, bool includeUsage, CancellationToken cancellationToken) : Stream
    {
        private IAsyncEnumerator<StreamChunk>? _chunks;
        private byte[] _pending = [];
        private int _offset;
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken readCancellation = default)
        {
            while (_offset >= _pending.Length)
            {
                if (_done)
                {
                    return 0;
                }
                _chunks ??= stream.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                if (!await _chunks.MoveNextAsync().ConfigureAwait(false))
                {
                    // The answer is recorded (its cost known to the caller's context) before the caller sees its end.
                    await stream.EndAsync().ConfigureAwait(false);
                    _pending = "data: [DONE]\n\n"u8.ToArray();
                    _done = true;
                }
                else if (_chunks.Current.IsUsageOnly && !includeUsage)
                {
                    continue;
                }
                else
                {
                    _pending = [.. "data: "u8, .. _chunks.Current.Json.Span, .. "\n\n"u8];
                }
                _offset = 0;
            }
            var count = Math.Min(buffer.Length, _pending.Length - _offset);
            _pending.AsMemory(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken token) => ReadAsync(buffer.AsMemory(offset, count), token).AsTask();

        private bool _closed;

        public override async ValueTask DisposeAsync()
        {
            await CloseAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                CloseAsync().AsTask().GetAwaiter().GetResult();
            }
            base.Dispose(disposing);
        }

        private async ValueTask CloseAsync()
        {
            if (_closed)
            {
                return;
            }
            _closed = true;
            if (_chunks is not null)
            {
                await _chunks.DisposeAsync().ConfigureAwait(false);
            }
            await stream.DisposeAsync().ConfigureAwait(false);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
