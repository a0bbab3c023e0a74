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
    /// <summary>
    /// A batch naming a model the caller's key may not use is refused whole, before anything is sent (the engine
    /// would refuse that item anyway, but a caller should learn it at once, not in one item's error).
    /// </summary>
    private static void RefuseModelsNotAllowed(BatchRequest batch, BatchProcessor processor, Requests.BatonRequestOptions caller)
    {
        if (caller.Key is not { Models: not null } key)
        {
            return;
        }
        for (var i = 0; i < batch.Requests.Count; i++)
        {
            var item = batch.Requests[i];
            // An item without a provider or model is refused by the batch's validation.
            if (item.Provider is { } provider && item.Model is { } model &&
                processor.Catalog.ResolvePinned(provider, model) is { } route && !key.Allows(route.Name))
            {
                throw new BatonException(StatusCodes.Status403Forbidden, ErrorTypes.InvalidRequest,
                    $"requests[{i}]: the key '{key.Name ?? key.Id}' may not use the model '{route.Name}' (it may use: {string.Join(", ", key.Models)}).",
                    $"requests[{i}].model", "model_not_allowed");
            }
        }
    }

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
            var caller = GatewayRequestOptions.Identity(http, fingerprintKey: false);
            RefuseModelsNotAllowed(batch, processor, caller);
            var response = await processor.ProcessBatchAsync(batch, caller, http.RequestAborted);
            await Results.Json(response).ExecuteAsync(http);
        }
        catch (BatonException ex)
        {
            await ErrorResponses.WriteAsync(http, ex);
        }
    }
}
