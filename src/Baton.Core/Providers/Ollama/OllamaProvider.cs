using System.Net.Http.Headers;
using Baton.Configuration;
using Baton.Embeddings;
using Baton.Requests;

namespace Baton.Providers.Ollama;

/// <summary>
/// Ollama's native chat API (<c>POST {baseUrl}/api/chat</c>), which unlike its OpenAI-compatible <c>/v1</c>
/// reports thinking, takes images and JSON schemas, and streams NDJSON. The base URL is the server's root
/// (default <c>http://127.0.0.1:11434</c>); a base URL ending in <c>/v1</c> or <c>/api</c> is the address of
/// another API of the same server, so that suffix is dropped rather than producing <c>/v1/api/chat</c>.
/// No key is needed locally; when one is configured (ollama.com) it is sent as a bearer token.
/// </summary>
public sealed class OllamaProvider(ProviderContext context) : HttpChatProvider(context), IEmbeddingProvider
{
    private readonly string _chatUrl = ServerRoot(context.BaseUrl) + "/api/chat";
    private readonly string _embedUrl = ServerRoot(context.BaseUrl) + "/api/embed";

    public override string Type => ProviderTypes.Ollama;

    /// <summary>The server's root URL from a configured base URL (given without a trailing slash).</summary>
    public static string ServerRoot(string baseUrl)
    {
        foreach (var suffix in (string[])["/v1", "/api"])
        {
            if (baseUrl.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return baseUrl[..^suffix.Length];
            }
        }
        return baseUrl;
    }

    protected override HttpRequestMessage CreateRequest(ProviderRequest request, bool stream)
    {
        var body = OllamaRequestTranslator.Translate(ReadClientBody(request), request.UpstreamModel, stream);
        var message = new HttpRequestMessage(HttpMethod.Post, _chatUrl) { Content = JsonContent(body) };
        AuthorizeBearer(message);
        ApplyCommonHeaders(message, stream, "application/x-ndjson");
        return message;
    }

    /// <summary><c>POST {root}/api/embed</c>; see <see cref="OllamaEmbeddings"/>.</summary>
    public async Task<ProviderEmbeddings> EmbedAsync(EmbeddingProviderRequest request, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, _embedUrl) { Content = JsonContent(OllamaEmbeddings.WriteRequest(request)) };
        AuthorizeBearer(message);
        ApplyCommonHeaders(message);
        var inputs = request.Embedding.Inputs.Count;
        var (answer, limits) = await SendForJsonAsync(message, request.AttemptTimeout, body => OllamaEmbeddings.ReadAnswer(Name, body, inputs), cancellationToken)
            .ConfigureAwait(false);
        answer.UpstreamRateLimit = limits;
        return answer;
    }

    protected override ProviderCompletion ReadCompletion(ProviderRequest request, PooledBuffer body)
    {
        using (body)
        {
            return UpstreamJson.Read(Name, "a response", () => OllamaResponseTranslator.Translate(Name, body.Span, request.UpstreamModel, Context.Time, Context.Redactor));
        }
    }

    protected override ProviderStream CreateStream(ProviderRequest request, HttpResponseMessage response, Stream body) =>
        new OllamaChatStream(Name, body, response, request.UpstreamModel, Context.Time, Context.Redactor);
}
