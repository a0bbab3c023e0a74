using System.Text.Json;
using Baton.Configuration;
using Baton.Requests;

namespace Baton.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API (<c>POST {baseUrl}/messages</c>). Requests are translated from the client's Chat
/// Completions JSON, and answers and streams back into OpenAI's shapes. A request that came in Anthropic's own
/// format (<see cref="NativeRequest"/>) is forwarded as it came instead, with only the model and the auth changed.
/// </summary>
public sealed class AnthropicProvider(ProviderContext context) : HttpChatProvider(context)
{
    /// <summary>The API version Baton's translation is written against; Anthropic requires one on every request.</summary>
    public const string ApiVersion = "2023-06-01";

    public override string Type => ProviderTypes.Anthropic;

    protected override HttpRequestMessage CreateRequest(ProviderRequest request, bool stream)
    {
        if (request.Chat.Native is { IsAnthropicMessages: true } native)
        {
            return CreateNativeRequest(native, "/messages", AnthropicPassThrough.Rewrite(native.Body.Span, request.UpstreamModel, stream), stream);
        }
        var chat = ReadClientBody(request);
        var body = AnthropicRequestTranslator.Translate(chat, request.UpstreamModel, stream);
        var message = new HttpRequestMessage(HttpMethod.Post, Context.BaseUrl + "/messages") { Content = JsonContent(body) };
        AddAuthAndVersion(message, ApiVersion);
        ApplyCommonHeaders(message, stream);
        return message;
    }

    /// <summary>
    /// Asks the upstream how many input tokens a Messages request holds (<c>POST {baseUrl}/messages/count_tokens</c>),
    /// the request forwarded as it came with the deployment's model in place of the client's.
    /// </summary>
    public async Task<int> CountTokensAsync(NativeRequest request, string upstreamModel, CancellationToken cancellationToken)
    {
        using var message = CreateNativeRequest(request, "/messages/count_tokens", AnthropicPassThrough.Rewrite(request.Body.Span, upstreamModel, stream: null), stream: false);
        using var body = await SendForBodyAsync(message, cancellationToken).ConfigureAwait(false);
        return UpstreamJson.Read(Name, "a token count", body.Memory, root =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty("input_tokens", out var tokens) && tokens.TryGetInt32(out var count) && count >= 0
                ? count
                : throw UpstreamErrors.Malformed(Name, "a token count"));
    }

    private HttpRequestMessage CreateNativeRequest(NativeRequest native, string path, byte[] body, bool stream)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, Context.BaseUrl + path) { Content = JsonContent(body) };
        // The client's version is the one its body is written against; Baton's own is the default.
        AddAuthAndVersion(message, native.Headers.TryGetValue("anthropic-version", out var version) && version.Length > 0 ? version : ApiVersion);
        foreach (var name in AnthropicPassThrough.ForwardedHeaders)
        {
            if (native.Headers.TryGetValue(name, out var value) && value.Length > 0)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }
        ApplyCommonHeaders(message, stream);
        return message;
    }

    private void AddAuthAndVersion(HttpRequestMessage message, string version)
    {
        if (Context.ApiKey is not null)
        {
            message.Headers.TryAddWithoutValidation("x-api-key", Context.ApiKey);
        }
        message.Headers.TryAddWithoutValidation("anthropic-version", version);
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
