using System.Text.Json;
using Baton.Configuration;
using Baton.Requests;

namespace Baton.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API (<c>POST {baseUrl}/messages</c>). Requests are translated from the client's Chat
/// Completions JSON, and answers and streams back into OpenAI's shapes.
/// </summary>
public sealed class AnthropicProvider(ProviderContext context) : HttpChatProvider(context)
{
    /// <summary>The API version Baton's translation is written against; Anthropic requires one on every request.</summary>
    public const string ApiVersion = "2023-06-01";

    public override string Type => ProviderTypes.Anthropic;

    protected override HttpRequestMessage CreateRequest(ProviderRequest request, bool stream)
    {
        var chat = ReadClientBody(request);
        var body = AnthropicRequestTranslator.Translate(chat, request.UpstreamModel, stream);
        var message = new HttpRequestMessage(HttpMethod.Post, Context.BaseUrl + "/messages") { Content = JsonContent(body) };
        if (Context.ApiKey is not null)
        {
            message.Headers.TryAddWithoutValidation("x-api-key", Context.ApiKey);
        }
        message.Headers.TryAddWithoutValidation("anthropic-version", ApiVersion);
        ApplyCommonHeaders(message, stream);
        return message;
    }

    protected override ProviderCompletion ReadCompletion(ProviderRequest request, PooledBuffer body)
    {
        using (body)
        {
            return UpstreamJson.Read(Name, "a response", body.Memory, root =>
            {
                if (root.ValueKind != JsonValueKind.Object || AnthropicResponseTranslator.String(root, "type") == "error")
                {
                    // An error inside a 200: report it as the upstream's failure, not as an empty answer.
                    throw UpstreamErrors.FromResponse(Name, 502, body.Span, null, Context.Redactor);
                }
                return AnthropicResponseTranslator.Translate(root, Context.Time.GetUtcNow().ToUnixTimeSeconds());
            });
        }
    }

    protected override ProviderStream CreateStream(ProviderRequest request, HttpResponseMessage response, Stream body) =>
        new AnthropicStreamTranslator(Name, body, Context.Time.GetUtcNow().ToUnixTimeSeconds(), Context.Redactor, response);
}
