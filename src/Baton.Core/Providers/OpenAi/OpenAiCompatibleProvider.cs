using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Baton.Configuration;
using Baton.Embeddings;
using Baton.Requests;

namespace Baton.Providers.OpenAi;

/// <summary>
/// Any OpenAI-compatible Chat Completions API: OpenAI, OpenRouter, Ollama's <c>/v1</c>, vLLM, llama.cpp,
/// Mistral, DeepSeek, Groq. The client's JSON is forwarded with only the model replaced (and usage asked
/// for in streams); answers come back as they are, with usage read on the way through.
/// </summary>
public class OpenAiCompatibleProvider(ProviderContext context) : HttpChatProvider(context), IEmbeddingProvider
{
    public override string Type => ProviderTypes.OpenAi;

    protected virtual string CompletionsUrl => Context.BaseUrl + "/chat/completions";

    /// <summary>Where embeddings of <paramref name="upstreamModel"/> are asked for.</summary>
    protected virtual string EmbeddingsUrl(string upstreamModel) => Context.BaseUrl + "/embeddings";

    /// <summary>Whether the embeddings body names the model (an Azure OpenAI deployment's path names it instead).</summary>
    protected virtual bool EmbeddingsBodyNamesModel => true;

    /// <summary>Asks <c>{baseUrl}/embeddings</c>, with the client's request and the upstream model (see <see cref="OpenAiEmbeddings"/>).</summary>
    public async Task<ProviderEmbeddings> EmbedAsync(EmbeddingProviderRequest request, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, EmbeddingsUrl(request.UpstreamModel))
        {
            Content = JsonContent(OpenAiEmbeddings.WriteRequest(request, EmbeddingsBodyNamesModel)),
        };
        Authorize(message);
        ApplyCommonHeaders(message);
        var inputs = request.Embedding.Inputs.Count;
        var (answer, limits) = await SendForJsonAsync(message, request.AttemptTimeout, body => OpenAiEmbeddings.ReadAnswer(Name, body, inputs), cancellationToken)
            .ConfigureAwait(false);
        answer.UpstreamRateLimit = limits;
        return answer;
    }

    protected virtual void Authorize(HttpRequestMessage message)
    {
        AuthorizeBearer(message);
    }

    // The address is the same for every request: parsed once rather than per request.
    private Uri? _completionsUri;

    protected override HttpRequestMessage CreateRequest(ProviderRequest request, bool stream)
    {
        var body = ChatRequestRewriter.Rewrite(request.Chat, request.UpstreamModel, request.Parameters);
        var uri = _completionsUri ??= new Uri(CompletionsUrl, UriKind.Absolute);
        var message = new HttpRequestMessage(HttpMethod.Post, uri) { Content = JsonContent(body) };
        Authorize(message);
        ApplyCommonHeaders(message, stream);
        return message;
    }

    protected override ProviderCompletion ReadCompletion(ProviderRequest request, PooledBuffer body)
    {
        // One pass serves the provider (usage, error), the engine (complete? the text) and the span (id, model, finish reasons).
        CompletionFacts facts;
        try
        {
            facts = CompletionFacts.Read(body.Memory);
        }
        catch (JsonException)
        {
            body.Dispose();
            throw UpstreamErrors.Malformed(Name, "a response");
        }
        if (facts.ErrorMessage is not null)
        {
            body.Dispose();
            throw UpstreamErrors.FromResponse(Name, 502, System.Text.Encoding.UTF8.GetBytes(facts.ErrorMessage), null, Context.Redactor);
        }
        return new ProviderCompletion(body.Memory, facts.Usage ?? default, body) { Facts = facts };
    }

    protected override ProviderStream CreateStream(ProviderRequest request, HttpResponseMessage response, Stream body) =>
        new OpenAiSseStream(this, Name, response, body, Context.Redactor);

    /// <summary>
    /// Whether a well-formed stream chunk carries nothing for the client and is dropped rather than forwarded
    /// (Azure's content-filter preamble). The base provider forwards every chunk.
    /// </summary>
    protected virtual bool SkipsStreamChunk(in OpenAiPayloadInspector.Findings findings) => false;

    /// <summary>Passes the upstream's chunks through, validating each and tapping usage.</summary>
    /// <remarks>
    /// The stream is its own enumerator, rather than an async iterator over the reader: an iterator is one more object
    /// per stream, and the events of a stream are mostly buffered already, so most moves complete at once here and only
    /// a move that waits for the upstream takes a (pooled) state machine. It is read once; disposing of the enumerator
    /// disposes of the stream, which may be disposed of again.
    /// </remarks>
    private sealed class OpenAiSseStream(OpenAiCompatibleProvider owner, string provider, HttpResponseMessage response, Stream body, SecretRedactor redactor)
        : ProviderStream, IAsyncEnumerable<StreamChunk>, IAsyncEnumerator<StreamChunk>
    {
        // From their pools (a stream's readers are two objects it need not make), and given back when it is disposed of.
        private SseEventReader _reader = SseEventReader.Rent(body);
        private StreamChunkReader _chunk = StreamChunkReader.Pool.Get();
        private CancellationToken _cancellation;
        private bool _enumerated;
        private bool _finished;
        private bool _ended;
        private int _disposed;

        public StreamChunk Current { get; private set; }

        public override IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken)
        {
            _cancellation = cancellationToken;
            return this;
        }

        public IAsyncEnumerator<StreamChunk> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            OneReading.Begin(ref _enumerated, ref _cancellation, cancellationToken);
            return this;
        }

        public ValueTask<bool> MoveNextAsync()
        {
            try
            {
                // Disposed of, its readers may be another stream's by now.
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
                while (!_ended)
                {
                    var read = _reader.MoveNextAsync(_cancellation);
                    if (!read.IsCompletedSuccessfully)
                    {
                        return MoveNextAfterAsync(read);
                    }
                    if (Take(read.Result))
                    {
                        return new ValueTask<bool>(true);
                    }
                }
                return new ValueTask<bool>(false);
            }
            catch (Exception error)
            {
                return ValueTask.FromException<bool>(error);
            }
        }

        /// <summary>A move whose event was not buffered: awaits the upstream, then goes on as <see cref="MoveNextAsync"/> does.</summary>
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<bool> MoveNextAfterAsync(ValueTask<bool> read)
        {
            while (true)
            {
                bool hasEvent;
                try
                {
                    hasEvent = await read.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    throw UpstreamErrors.StreamInterrupted(provider, redactor.Redact(ex.Message));
                }
                if (Take(hasEvent))
                {
                    return true;
                }
                if (_ended)
                {
                    return false;
                }
                read = _reader.MoveNextAsync(_cancellation);
            }
        }

        /// <summary>
        /// Takes the event the reader moved to (<paramref name="hasEvent"/>; false at the body's end): true when it is a
        /// chunk for the reader (<see cref="Current"/>), false when it was skipped or ended the answer (<see cref="_ended"/>).
        /// </summary>
        private bool Take(bool hasEvent)
        {
            if (!hasEvent)
            {
                _ended = true;
                // Some servers omit [DONE]; an answer that reached its finish reason is still complete.
                return _finished ? false : throw UpstreamErrors.StreamInterrupted(provider, "the upstream closed the stream before the answer was finished.");
            }
            var data = _reader.Current.Data;
            if (data.Span.SequenceEqual("[DONE]"u8))
            {
                _ended = true;
                return false;
            }
            if (data.IsEmpty)
            {
                return false;
            }

            // The one reading of the chunk: the scrubber, the engine, the cache and the span take it from here.
            try
            {
                _chunk.Read(data);
            }
            catch (JsonException)
            {
                throw UpstreamErrors.Malformed(provider, "a stream chunk");
            }
            if (_chunk.ErrorMessage is { } error)
            {
                throw UpstreamErrors.StreamInterrupted(provider, redactor.Redact(error));
            }
            if (owner.SkipsStreamChunk(_chunk.Findings))
            {
                return false;
            }
            if (_chunk.Usage is TokenUsage usage)
            {
                Usage = usage;
            }
            _finished |= _chunk.HasFinishReason;
            Current = new StreamChunk(data, _chunk.IsUsageOnly, _chunk);
            return true;
        }

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
            SseEventReader.Return(_reader);
            StreamChunkReader.Pool.Return(_chunk);
            (_reader, _chunk) = (null!, null!);
            await body.DisposeAsync().ConfigureAwait(false);
            response.Dispose();
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
