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
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Context.ApiKey);
        }
    }

    /// <summary>A chunk with no choices and no usage (the prompt-filter preamble) has nothing for the client.</summary>
    protected override bool SkipsStreamChunk(in OpenAiPayloadInspector.Findings findings) =>
        findings.ChoiceCount <= 0 && findings.Usage is null;
}
