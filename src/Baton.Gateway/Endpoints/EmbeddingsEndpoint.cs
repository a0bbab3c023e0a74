using Baton.Configuration;
using Baton.Embeddings;
using Baton.Engine;
using Baton.Errors;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>POST /v1/embeddings</c>: OpenAI's Embeddings API in front of the Baton engine. The request is checked (every
/// problem a 400 naming its parameter), routed to the model's embeddings deployments like a chat request, and
/// answered in OpenAI's shape with the route, cache and cost headers a chat answer has.
/// </summary>
internal static class EmbeddingsEndpoint
{
    public static async Task HandleAsync(HttpContext http, BatonEngine engine, BatonOptions options, TimeProvider time)
    {
        var started = time.GetTimestamp();
        try
        {
            EmbeddingRequest request;
            using (var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes))
            {
                request = EmbeddingRequest.Parse(body.Memory);
            }
            request.Options = GatewayRequestOptions.Merge(http, request.Options, fingerprintKey: engine.Accounting?.TracksCallers == true);
            var result = await engine.EmbedAsync(request, http.RequestAborted);
            var response = http.Response;
            ChatCompletionsEndpoint.WriteRouteHeaders(response, result.Route, time.GetElapsedTime(started), time);
            ChatCompletionsEndpoint.WriteBudgetWarnings(response, result.BudgetWarnings);
            if (result.CostUsd is { } cost)
            {
                response.Headers[GatewayHeaders.CostUsd] = ChatCompletionsEndpoint.FormatCost(cost);
            }
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json";
            response.ContentLength = result.Body.Length;
            await response.Body.WriteAsync(result.Body, http.RequestAborted);
        }
        catch (BatonException ex)
        {
            await ErrorResponses.WriteAsync(http, ex);
        }
    }
}
