using System.Globalization;
using System.Text.Json;
using Baton.Configuration;
using Baton.Embeddings;
using Baton.Requests;

namespace Baton.Providers.Gemini;

/// <summary>
/// The Gemini Developer API (<c>generateContent</c> and <c>streamGenerateContent?alt=sse</c>). Requests and
/// answers are translated to and from OpenAI's format; the key goes in <c>x-goog-api-key</c>.
/// </summary>
public sealed class GeminiProvider(ProviderContext context) : HttpChatProvider(context), IEmbeddingProvider
{
    private const string RetryInfoType = "type.googleapis.com/google.rpc.RetryInfo";

    public override string Type => ProviderTypes.Gemini;

    protected override HttpRequestMessage CreateRequest(ProviderRequest request, bool stream)
    {
        var body = GeminiRequestTranslator.Translate(ReadClientBody(request));
        var model = Uri.EscapeDataString(request.UpstreamModel);
        // Without alt=sse the stream comes back as one JSON array rather than server-sent events.
        var url = stream
            ? $"{Context.BaseUrl}/models/{model}:streamGenerateContent?alt=sse"
            : $"{Context.BaseUrl}/models/{model}:generateContent";
        var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent(body) };
        if (Context.ApiKey is not null)
        {
            message.Headers.TryAddWithoutValidation("x-goog-api-key", Context.ApiKey);
        }
        ApplyCommonHeaders(message, stream);
        return message;
    }

    protected override ProviderCompletion ReadCompletion(ProviderRequest request, PooledBuffer body)
    {
        using (body)
        {
            return UpstreamJson.Read(Name, "a response", body.Memory, root =>
            {
                if (GeminiCandidate.ErrorMessage(root) is { } error)
                {
                    throw UpstreamErrors.FromResponse(Name, 502, System.Text.Encoding.UTF8.GetBytes(error), null, Context.Redactor);
                }
                var json = GeminiResponseTranslator.Translate(root, request.UpstreamModel, Context.Time.GetUtcNow().ToUnixTimeSeconds(), out var usage);
                return new ProviderCompletion(json, usage);
            });
        }
    }

    protected override ProviderStream CreateStream(ProviderRequest request, HttpResponseMessage response, Stream body) =>
        new GeminiSseStream(Name, response, body, new GeminiStreamTranslator(request.UpstreamModel, Context.Time.GetUtcNow().ToUnixTimeSeconds()), Context.Redactor);

    /// <summary>
    /// <c>:embedContent</c> for one input, <c>:batchEmbedContents</c> for several (in calls of at most
    /// <see cref="GeminiEmbeddings.MaxBatch"/>, one after another, within the attempt's timeout); see <see cref="GeminiEmbeddings"/>.
    /// </summary>
    public async Task<ProviderEmbeddings> EmbedAsync(EmbeddingProviderRequest request, CancellationToken cancellationToken)
    {
        var model = Uri.EscapeDataString(request.UpstreamModel);
        var inputs = request.Embedding.Inputs.Count;
        var vectors = new List<float[]>(inputs);
        using var timeout = new TimeoutScope(request.AttemptTimeout ?? Context.Timeout, Context.Time, cancellationToken);
        RateLimiting.UpstreamRateLimit? limits = null;
        try
        {
            for (var start = 0; start < inputs; start += GeminiEmbeddings.MaxBatch)
            {
                var count = Math.Min(GeminiEmbeddings.MaxBatch, inputs - start);
                var batch = inputs > 1;
                var url = $"{Context.BaseUrl}/models/{model}:{(batch ? "batchEmbedContents" : "embedContent")}";
                var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent(GeminiEmbeddings.WriteRequest(request, start, count, batch)) };
                if (Context.ApiKey is not null)
                {
                    message.Headers.TryAddWithoutValidation("x-goog-api-key", Context.ApiKey);
                }
                ApplyCommonHeaders(message);
                (var part, limits) = await SendForJsonAsync(message, null, body => GeminiEmbeddings.ReadAnswer(Name, body, count, batch), timeout.Token)
                    .ConfigureAwait(false);
                vectors.AddRange(part);
            }
        }
        catch (OperationCanceledException) when (timeout.TimedOut && !cancellationToken.IsCancellationRequested)
        {
            throw UpstreamErrors.TimedOut(Name, timeout.Duration);
        }
        return new ProviderEmbeddings(vectors, promptTokens: null) { UpstreamRateLimit = limits };
    }

    /// <summary>Gemini sends no Retry-After header: the delay is a RetryInfo detail such as <c>"26s"</c>.</summary>
    protected override TimeSpan? RetryAfterFromErrorBody(ReadOnlySpan<byte> body) => ReadRetryInfo(body);

    internal static TimeSpan? ReadRetryInfo(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (!document.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object ||
                !error.TryGetProperty("details", out var details) || details.ValueKind != JsonValueKind.Array)
            {
                return null;
            }
            foreach (var detail in details.EnumerateArray())
            {
                if (detail.ValueKind == JsonValueKind.Object &&
                    detail.TryGetProperty("@type", out var type) && type.ValueEquals(RetryInfoType) &&
                    detail.TryGetProperty("retryDelay", out var delay) && delay.ValueKind == JsonValueKind.String)
                {
                    return ParseDuration(delay.GetString()!);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: no delay to read.
        }
        return null;
    }

    /// <summary>A protobuf Duration in JSON: seconds with an <c>s</c> suffix, e.g. <c>26s</c> or <c>45.8379s</c>.</summary>
    private static TimeSpan? ParseDuration(string text) =>
        text.EndsWith('s') && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
