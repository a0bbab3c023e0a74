using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Baton.Gateway.Simulation;

/// <summary>
/// The simulator's Gemini face: <c>POST /v1beta/models/{model}:generateContent</c> and <c>:streamGenerateContent</c>, and
/// the embeddings methods <c>:embedContent</c> and <c>:batchEmbedContents</c>.
/// </summary>
internal static class GeminiSimulatorEndpoint
{
    public static void MapGeminiSimulator(this IEndpointRouteBuilder endpoints, SimulatorBehavior behavior)
    {
        var format = new GeminiWireFormat();
        // A route segment cannot hold a parameter followed by ":method", so the rest of the path is split by hand.
        endpoints.MapPost("/v1beta/models/{**rest}", (HttpContext http, string rest) => HandleAsync(http, rest, format, behavior));
    }

    private static async Task HandleAsync(HttpContext http, string rest, GeminiWireFormat format, SimulatorBehavior behavior)
    {
        var colon = rest.LastIndexOf(':');
        var method = colon < 0 ? "" : rest[(colon + 1)..];
        if (colon > 0 && method is "embedContent" or "batchEmbedContents")
        {
            await EmbeddingsSimulatorEndpoints.RespondGeminiAsync(http, Uri.UnescapeDataString(rest[..colon]), method == "batchEmbedContents", format, behavior);
            return;
        }
        if (colon <= 0 || method is not ("generateContent" or "streamGenerateContent"))
        {
            await SimulatorResponder.WriteErrorAsync(http, format, StatusCodes.Status404NotFound, $"Method not found: '{rest}'.");
            return;
        }
        var model = Uri.UnescapeDataString(rest[..colon]);
        var stream = method == "streamGenerateContent";
        if (await SimulatorResponder.ReadPromptAsync(http, format, body => GeminiPromptReader.Read(body, model, stream), "Invalid JSON payload received. ") is { } prompt)
        {
            await SimulatorResponder.RespondAsync(http, prompt, format, behavior);
        }
    }
}
