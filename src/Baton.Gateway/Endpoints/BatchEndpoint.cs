using System.Text.Json;
using Baton.Batching;
using Baton.Configuration;
using Baton.Errors;
using Baton.Requests;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>POST /batch</c>, seed 001's contract: up to 100 chat requests, each naming its provider and model,
/// answered together in request order. An invalid batch is a 422 listing every offending field.
/// </summary>
internal static class BatchEndpoint
{
    public static async Task HandleAsync(HttpContext http, BatchProcessor processor, BatonOptions options)
    {
        try
        {
            using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
            BatchRequest batch;
            try
            {
                JsonStringCheck.Validate(body.Memory.Span);
                using var document = JsonDocument.Parse(body.Memory);
                batch = BatchValidator.Read(document.RootElement, processor.Catalog);
            }
            catch (JsonException ex)
            {
                throw BatonException.InvalidRequest($"The body is not valid JSON: {ex.Message}", null, "invalid_json");
            }
            var response = await processor.ProcessBatchAsync(batch, http.RequestAborted);
            await Results.Json(response).ExecuteAsync(http);
        }
        catch (BatonException ex)
        {
            await ErrorResponses.WriteAsync(http, ex);
        }
    }
}
