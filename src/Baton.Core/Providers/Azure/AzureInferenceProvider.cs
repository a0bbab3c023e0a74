using System.Net.Http.Headers;
using Baton.Configuration;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Azure;

/// <summary>
/// GitHub Models and Azure AI Inference. Both speak the Chat Completions format; they differ from OpenAI in
/// where the endpoint lives, how the key is sent, and the <c>api-version</c> that Azure requires.
/// With <c>apiVersion</c> set (Azure AI Inference) the key goes in the <c>api-key</c> header and the version
/// in the query; without it (GitHub Models) the key is a bearer token. The content-filter preamble that Azure
/// OpenAI models send first in a stream (<c>"choices":[]</c>, <c>"id":""</c>, no usage) is dropped.
/// </summary>
public sealed class AzureInferenceProvider(ProviderContext context) : OpenAiCompatibleProvider(context)
{
    public override string Type => ProviderTypes.Azure;

    protected override string CompletionsUrl => Context.Options.ApiVersion is { Length: > 0 } version
        ? $"{Context.BaseUrl}/chat/completions?api-version={Uri.EscapeDataString(version)}"
        : Context.BaseUrl + "/chat/completions";

    /// <summary>
    /// <c>{baseUrl}/embeddings</c> (GitHub Models, Azure AI Inference, or an Azure OpenAI deployment's URL), except for
    /// an Azure OpenAI resource given by its root (<c>https://NAME.openai.azure.com</c>, optionally with <c>/openai</c>):
    /// there the upstream model is the deployment, <c>/openai/deployments/{deployment}/embeddings?api-version=</c>.
    /// </summary>
    protected override string EmbeddingsUrl(string upstreamModel)
    {
        var version = Context.Options.ApiVersion is { Length: > 0 } apiVersion ? "?api-version=" + Uri.EscapeDataString(apiVersion) : "";
        return AzureOpenAiRoot() is { } root
            ? $"{root}/openai/deployments/{Uri.EscapeDataString(upstreamModel)}/embeddings{version}"
            : Context.BaseUrl + "/embeddings" + version;
    }

    /// <summary>An Azure OpenAI deployment takes its model from the path; a body that names one is still accepted, but need not.</summary>
    protected override bool EmbeddingsBodyNamesModel => AzureOpenAiRoot() is null;

    /// <summary>The resource's root when the base URL is an Azure OpenAI resource's root (its path empty or <c>/openai</c>), else null.</summary>
    private string? AzureOpenAiRoot()
    {
        if (!Uri.TryCreate(Context.BaseUrl, UriKind.Absolute, out var uri) || Context.Options.ApiVersion is not { Length: > 0 })
        {
            return null;
        }
        var path = uri.AbsolutePath.TrimEnd('/');
        return path.Length == 0 ? Context.BaseUrl
            : path.Equals("/openai", StringComparison.OrdinalIgnoreCase) ? Context.BaseUrl[..^"/openai".Length]
            : null;
    }

    protected override void Authorize(HttpRequestMessage message)
    {
        if (Context.ApiKey is null)
        {
            return;
        }
        if (Context.Options.ApiVersion is { Length: > 0 })
        {
            message.Headers.TryAddWithoutValidation("api-key", Context.ApiKey);
        }
        else
        {
            AuthorizeBearer(message);
        }
    }

    /// <summary>A chunk with no choices and no usage (the prompt-filter preamble) has nothing for the client.</summary>
    protected override bool SkipsStreamChunk(in OpenAiPayloadInspector.Findings findings) =>
        findings.ChoiceCount <= 0 && findings.Usage is null;
}
