using System.Text.Json;
using Baton.Accounting;
using Baton.Configuration;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Endpoints;
using Baton.Providers.Anthropic;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>
/// <c>POST /v1/messages/count_tokens</c>: <c>{"input_tokens": N}</c> for a Messages request. When the model routes to an
/// Anthropic deployment, that deployment's upstream counts (Anthropic's tokenizer is not public); otherwise, or when
/// no Anthropic upstream answers, Baton's own tokenizer counts the translated prompt. The
/// <c>x-baton-token-count</c> header says which (<c>upstream</c> or <c>estimate</c>).
/// </summary>
internal static partial class AnthropicCountTokensEndpoint
{
    private const string SourceHeader = "x-baton-token-count";

    public static async Task HandleAsync(HttpContext http, BatonEngine engine, BatonOptions options, ILogger<BatonEngine> logger)
    {
        try
        {
            using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
            var request = AnthropicMessagesEndpoint.Translate(http, body.Memory, countOnly: true, fingerprintKey: false);
            var route = engine.Catalog.Resolve(request.Model);
            if (request.Options.Key is { } key && !key.Allows(route.Name))
            {
                throw new BatonException(403, ErrorTypes.InvalidRequest,
                    $"The key '{key.Name ?? key.Id}' may not use the model '{route.Name}'.", "model", "model_not_allowed");
            }

            int? counted = null;
            foreach (var deployment in route.Deployments.Where(d => d.Provider is AnthropicProvider))
            {
                try
                {
                    counted = await ((AnthropicProvider)deployment.Provider).CountTokensAsync(request.Native!, deployment.UpstreamModel, http.RequestAborted);
                    break;
                }
                catch (BatonException ex) when (ex.StatusCode is not 400)
                {
                    // The next Anthropic deployment, or Baton's own count: a count is an estimate either way.
                    Log.CountFailed(logger, deployment.Id, ex.Message);
                }
            }
            http.Response.Headers[SourceHeader] = counted is null ? "estimate" : "upstream";
            var tokens = counted ?? PromptTokenCounter.CountPrompt(request, http.RequestAborted);
            var answer = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, int> { ["input_tokens"] = tokens });
            http.Response.ContentType = "application/json";
            http.Response.ContentLength = answer.Length;
            await http.Response.Body.WriteAsync(answer, http.RequestAborted);
        }
        catch (BatonException ex)
        {
            await ErrorResponses.WriteAsync(http, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Deployment {Deployment} could not count tokens; trying the next way: {Reason}")]
        public static partial void CountFailed(ILogger logger, string deployment, string reason);
    }
}
