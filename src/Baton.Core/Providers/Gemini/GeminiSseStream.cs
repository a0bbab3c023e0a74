using System.Runtime.CompilerServices;

namespace Baton.Providers.Gemini;

/// <summary>
/// Reads Gemini's server-sent events and yields them as OpenAI chunks. Gemini sends no <c>[DONE]</c>: the
/// answer is complete when an event has carried the finish reason and the body then ends.
/// </summary>
internal sealed class GeminiSseStream(string provider, HttpResponseMessage response, Stream body, GeminiStreamTranslator translator, SecretRedactor redactor)
    : ProviderStream
{
    private readonly SseEventReader _reader = new(body);

    public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = new List<byte[]>();
        var enumerator = _reader.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (await UpstreamStreamReader.MoveNextAsync(enumerator, provider, redactor).ConfigureAwait(false))
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
                    yield return new StreamChunk(chunk, IsUsageOnly: false);
                }
            }
        }

        if (!translator.Finished)
        {
            throw UpstreamErrors.StreamInterrupted(provider, "the upstream closed the stream before the answer was finished.");
        }
        yield return new StreamChunk(translator.UsageChunk(), IsUsageOnly: true);
    }

    private void Translate(ReadOnlyMemory<byte> data, List<byte[]> chunks) =>
        UpstreamJson.Read(provider, "a stream chunk", data, root =>
        {
            if (GeminiCandidate.ErrorMessage(root) is { } error)
            {
                throw UpstreamErrors.StreamInterrupted(provider, redactor.Redact(error));
            }
            translator.Translate(root, chunks);
            return chunks;
        });

    public override async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await body.DisposeAsync().ConfigureAwait(false);
        response.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
