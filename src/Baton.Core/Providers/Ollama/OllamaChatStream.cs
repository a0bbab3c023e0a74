using System.Runtime.CompilerServices;

namespace Baton.Providers.Ollama;

/// <summary>
/// An Ollama NDJSON stream read as OpenAI chunks. It ends normally only after Ollama's <c>done</c> line;
/// an <c>{"error":"..."}</c> line (Ollama keeps status 200 once streaming), a body that ends early, or a
/// broken connection is a <c>stream_interrupted</c> error, and a line that is not JSON is a malformed answer.
/// </summary>
internal sealed class OllamaChatStream(
    string provider,
    Stream body,
    HttpResponseMessage? response,
    string fallbackModel,
    TimeProvider time,
    SecretRedactor redactor) : ProviderStream
{
    private readonly NdjsonLineReader _reader = new(body);
    private readonly OllamaStreamTranslator _translator = new(fallbackModel, time);

    public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = new List<StreamChunk>(4);
        var lines = _reader.ReadLinesAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (lines.ConfigureAwait(false))
        {
            while (!_translator.Finished && await UpstreamStreamReader.MoveNextAsync(lines, provider, redactor).ConfigureAwait(false))
            {
                chunks.Clear();
                _translator.Translate(Parse(lines.Current), chunks);
                Usage = _translator.Usage ?? Usage;
                foreach (var chunk in chunks)
                {
                    yield return chunk;
                }
            }
        }
        if (!_translator.Finished)
        {
            throw UpstreamErrors.StreamInterrupted(provider, "the upstream closed the stream before the answer was finished.");
        }
    }

    private OllamaMessage Parse(ReadOnlyMemory<byte> line)
    {
        var message = UpstreamJson.Read(provider, "a stream line", () => OllamaMessage.Parse(line.Span));
        if (message.Error is { } error)
        {
            throw UpstreamErrors.StreamInterrupted(provider, redactor.Redact(error));
        }
        return message;
    }

    public override async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await body.DisposeAsync().ConfigureAwait(false);
        response?.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
