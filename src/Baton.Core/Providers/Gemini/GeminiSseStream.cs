using System.Runtime.CompilerServices;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Gemini;

/// <summary>
/// Reads Gemini's server-sent events and yields them as OpenAI chunks. Gemini sends no <c>[DONE]</c>: the
/// answer is complete when an event has carried the finish reason and the body then ends.
/// </summary>
internal sealed class GeminiSseStream(string provider, HttpResponseMessage response, Stream body, GeminiStreamTranslator translator, SecretRedactor redactor)
    : ProviderStream
{
    // From the pool (a stream's reader is an object it need not make), and given back when the stream is disposed of.
    private readonly SseEventReader _reader = SseEventReader.Rent(body);
    // The one reading of each chunk written: the scrubber, the engine, the cache and the span take it from here.
    private readonly StreamChunkReader _chunk = StreamChunkReader.Pool.Get();
    private int _disposed;

    public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = new List<ReadOnlyMemory<byte>>();
        var enumerator = _reader.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (await MoveNextAsync(enumerator).ConfigureAwait(false))
            {
                if (enumerator.Current.Data.IsEmpty)
                {
                    continue;
                }

                chunks.Clear();
                Translate(enumerator.Current.Data, chunks);
                Usage = translator.Usage;
                foreach (var chunk in chunks)
                {
                    _chunk.Read(chunk);
                    yield return new StreamChunk(chunk, IsUsageOnly: false, _chunk);
                }
            }
        }

        if (!translator.Finished)
        {
            throw UpstreamErrors.StreamInterrupted(provider, "the upstream closed the stream before the answer was finished.");
        }
        var usage = translator.UsageChunk();
        _chunk.Read(usage);
        yield return new StreamChunk(usage, IsUsageOnly: true, _chunk);
    }

    private void Translate(ReadOnlyMemory<byte> data, List<ReadOnlyMemory<byte>> chunks)
    {
        if (!translator.TryTranslate(data.Span, chunks))
        {
            TranslateDocument(data, chunks);
        }
    }

    /// <summary>Any event, through a document: the rule for every shape and every error.</summary>
    private void TranslateDocument(ReadOnlyMemory<byte> data, List<ReadOnlyMemory<byte>> chunks) =>
        UpstreamJson.Read(provider, "a stream chunk", data, root =>
        {
            if (GeminiCandidate.ErrorMessage(root) is { } error)
            {
                throw UpstreamErrors.StreamInterrupted(provider, redactor.Redact(error));
            }
            translator.Translate(root, chunks);
            return chunks;
        });

    private ValueTask<bool> MoveNextAsync(IAsyncEnumerator<SseEventReader.SseEvent> events)
    {
        // Disposed of, the stream has given its reader back: it may be another stream's by now.
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return UpstreamStreamReader.MoveNextAsync(events, provider, redactor);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        SseEventReader.Return(_reader);
        StreamChunkReader.Pool.Return(_chunk);
        translator.Dispose();
        await body.DisposeAsync().ConfigureAwait(false);
        response.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
