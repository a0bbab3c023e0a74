using System.Net.Http.Headers;
using Baton.Errors;
using Baton.Providers.Translation;
using Baton.RateLimiting;
using Baton.Requests;

namespace Baton.Providers;

/// <summary>
/// The part every HTTP provider shares: sending with a timeout, turning transport failures and error
/// statuses into <see cref="BatonException"/>s, reading bodies into pooled buffers. A subclass supplies
/// its wire format: how to build the upstream request, and how to read its answer and its stream.
/// </summary>
public abstract class HttpChatProvider(ProviderContext context) : IChatProvider
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    protected ProviderContext Context { get; } = context;

    public string Name => Context.Name;

    public abstract string Type { get; }

    protected abstract HttpRequestMessage CreateRequest(ProviderRequest request, bool stream);

    /// <summary>Turns the upstream's complete answer into an OpenAI <c>chat.completion</c>.</summary>
    protected abstract ProviderCompletion ReadCompletion(ProviderRequest request, PooledBuffer body);

    /// <summary>Wraps the upstream's streaming body; the returned stream owns <paramref name="response"/>.</summary>
    protected abstract ProviderStream CreateStream(ProviderRequest request, HttpResponseMessage response, Stream body);

    public async Task<ProviderCompletion> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        // No scope at all when the attempt has no timeout of its own (the runner's total timeout bounds it): its token
        // would be the caller's, and the scope an object made for nothing on every request.
        using var timeout = request.AttemptTimeout == Timeout.InfiniteTimeSpan ? null : StartTimeout(request, cancellationToken);
        var token = timeout?.Token ?? cancellationToken;
        try
        {
            using var message = CreateRequest(request, stream: false);
            // Sent here rather than through SendAsync: one async method less for every complete answer.
            Telemetry.TraceContext.Inject(message);
            using var response = await Context.Http.SendAsync(message, token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw await UpstreamErrorAsync(response, token).ConfigureAwait(false);
            }
            var body = new PooledBuffer((int)(response.Content.Headers.ContentLength ?? 4096));
            try
            {
                // The response's content is already a stream: taken as it is, without a task around it.
                var stream = response.Content.ReadAsStream(token);
                await body.ReadFromAsync(stream, long.MaxValue, token).ConfigureAwait(false);
                // Whatever the upstream echoed (a key among it) is removed before anyone sees, caches or stores it.
                var completion = Context.Redactor.ScrubCompletion(ReadCompletion(request, body));
                completion.UpstreamRateLimit = UpstreamRateLimit.Read(response.Headers, Context.Time);
                return completion;
            }
            catch
            {
                body.Dispose();
                throw;
            }
        }
        catch (Exception ex) when (Translate(ex, timeout, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    public async Task<ProviderStream> StreamAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        // The timeout bounds the wait for the upstream's response headers; pacing of the stream itself is
        // the caller's concern. None when the caller's total timeout would end first (as for a complete answer).
        using var timeout = request.AttemptTimeout == Timeout.InfiniteTimeSpan ? null : StartTimeout(request, cancellationToken);
        var token = timeout?.Token ?? cancellationToken;
        HttpResponseMessage? response = null;
        try
        {
            using var message = CreateRequest(request, stream: true);
            // Sent here rather than through SendAsync, and the body taken as the stream it already is: one async
            // method and one task less for every stream.
            Telemetry.TraceContext.Inject(message);
            response = await Context.Http.SendAsync(message, token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // The error disposes of the response: not disposed again below.
                var failed = response;
                response = null;
                throw await UpstreamErrorAsync(failed, token).ConfigureAwait(false);
            }
            var body = response.Content.ReadAsStream(cancellationToken);
            var upstreamRateLimit = UpstreamRateLimit.Read(response.Headers, Context.Time);
            var answer = Context.Redactor.ScrubStream(CreateStream(request, response, body));
            answer.UpstreamRateLimit = upstreamRateLimit;
            return answer;
        }
        catch (Exception ex) when (Translate(ex, timeout, cancellationToken) is { } translated)
        {
            response?.Dispose();
            throw translated;
        }
    }

    /// <summary>
    /// Sends a request other than a chat (e.g. a token count) under the provider's timeout, with the same handling of
    /// error statuses and transport failures as a chat, and returns the upstream's answer body.
    /// </summary>
    protected async Task<PooledBuffer> SendForBodyAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        using var timeout = new TimeoutScope(Context.Timeout, Context.Time, cancellationToken);
        try
        {
            using var response = await SendAsync(message, timeout.Token).ConfigureAwait(false);
            var body = new PooledBuffer((int)(response.Content.Headers.ContentLength ?? 1024));
            try
            {
                var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                await body.ReadFromAsync(stream, MaxErrorBodyBytes, timeout.Token).ConfigureAwait(false);
                return body;
            }
            catch
            {
                body.Dispose();
                throw;
            }
        }
        catch (Exception ex) when (Translate(ex, timeout, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Sends a request answered with one JSON body (an embeddings request) within the attempt's timeout, and reads
    /// the body with <paramref name="read"/> (which may throw <see cref="BatonException"/>s, and reads the JSON
    /// through <see cref="UpstreamJson"/>). Failures become <see cref="BatonException"/>s as for a chat completion.
    /// </summary>
    protected async Task<(T Answer, UpstreamRateLimit? Limits)> SendForJsonAsync<T>(HttpRequestMessage message, TimeSpan? attemptTimeout,
        Func<ReadOnlyMemory<byte>, T> read, CancellationToken cancellationToken)
    {
        using var timeout = new TimeoutScope(attemptTimeout ?? Context.Timeout, Context.Time, cancellationToken);
        try
        {
            using (message)
            {
                using var response = await SendAsync(message, timeout.Token).ConfigureAwait(false);
                using var body = new PooledBuffer((int)Math.Min(response.Content.Headers.ContentLength ?? 4096, 16 * 1024 * 1024));
                var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                await body.ReadFromAsync(stream, long.MaxValue, timeout.Token).ConfigureAwait(false);
                return (read(body.Memory), UpstreamRateLimit.Read(response.Headers, Context.Time));
            }
        }
        catch (Exception ex) when (Translate(ex, timeout, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>For providers that put the retry delay in the error body rather than a header (Gemini's RetryInfo).</summary>
    protected virtual TimeSpan? RetryAfterFromErrorBody(ReadOnlySpan<byte> body) => null;

    /// <summary>Sends the provider's key as a bearer token, when it has one.</summary>
    protected void AuthorizeBearer(HttpRequestMessage message)
    {
        if (Context.BearerAuthorization is { } authorization)
        {
            message.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
    }

    protected void ApplyCommonHeaders(HttpRequestMessage message)
    {
        foreach (var (name, value) in Context.Options.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>Adds the configured headers and, for a stream, asks for the media type the upstream streams in.</summary>
    protected void ApplyCommonHeaders(HttpRequestMessage message, bool stream, string streamMediaType = "text/event-stream")
    {
        ApplyCommonHeaders(message);
        if (stream)
        {
            // Unparsed, as the header goes out: the typed Accept collection costs a collection and a parsed value per stream.
            message.Headers.TryAddWithoutValidation("Accept", streamMediaType);
        }
    }

    /// <summary>
    /// Reads the client's request for a provider that translates it into another wire format. The gateway has
    /// already checked the request's JSON; a shape the translator cannot read (a message without a role, a tool
    /// without a name) is still the client's mistake, so it is a 400 rather than an upstream failure.
    /// </summary>
    protected static OpenAiChatBody ReadClientBody(ProviderRequest request)
    {
        try
        {
            return OpenAiChatBody.Read(request.Chat.Body.Span, request.Parameters);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException || UpstreamErrors.IsShapeError(ex))
        {
            throw new BatonException(400, ErrorTypes.InvalidRequest, "The request's messages or tools could not be read: " + ex.Message, code: "invalid_request");
        }
    }

    protected static HttpContent JsonContent(PooledBuffer body) => new PooledBufferContent(body);

    protected static HttpContent JsonContent(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Sends the request; the answer comes back as soon as its headers have (the handler never buffers a body).</summary>
    // Every call is awaited once, at once: its state machine can come from a pool rather than be allocated per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        Telemetry.TraceContext.Inject(message);
        var response = await Context.Http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        throw await UpstreamErrorAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The failure an error status stands for, read from its body (which may say when to retry); disposes of the response.</summary>
    private async Task<BatonException> UpstreamErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using (response)
        {
            using var body = new PooledBuffer(1024);
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await body.ReadFromAsync(stream, MaxErrorBodyBytes, cancellationToken).ConfigureAwait(false);
            var retryAfter = UpstreamErrors.ReadRetryAfter(response.Headers, Context.Time) ?? RetryAfterFromErrorBody(body.Span);
            return UpstreamErrors.FromResponse(Name, (int)response.StatusCode, body.Span, retryAfter, Context.Redactor, UpstreamRateLimit.Read(response.Headers, Context.Time));
        }
    }

    private TimeoutScope StartTimeout(ProviderRequest request, CancellationToken cancellationToken) =>
        new(request.AttemptTimeout ?? Context.Timeout, Context.Time, cancellationToken);

    private BatonException? Translate(Exception error, TimeoutScope? timeout, CancellationToken caller) => error switch
    {
        BatonException => null,
        OperationCanceledException when caller.IsCancellationRequested => null,
        OperationCanceledException when timeout is { TimedOut: true } => UpstreamErrors.TimedOut(Name, timeout.Duration),
        HttpRequestException or IOException => UpstreamErrors.Unreachable(Name, error, Context.Redactor),
        System.Text.Json.JsonException => UpstreamErrors.Malformed(Name, "a response"),
        _ => null,
    };

    /// <summary>Sends a pooled body and returns its buffer to the pool when the request is done with it.</summary>
    private sealed class PooledBufferContent : HttpContent
    {
        private readonly PooledBuffer _body;

        public PooledBufferContent(PooledBuffer body)
        {
            _body = body;
            // The same header as a parsed MediaTypeHeaderValue would give, without parsing a constant on every request.
            Headers.TryAddWithoutValidation("Content-Type", "application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            stream.WriteAsync(_body.Memory).AsTask();

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
            stream.WriteAsync(_body.Memory, cancellationToken).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = _body.Length;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _body.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
