using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Simulation;

/// <summary>The simulator's Gemini face: <c>POST /v1beta/models/{model}:generateContent</c> and <c>:streamGenerateContent</c>.</summary>
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
        if (colon <= 0 || method is not ("generateContent" or "streamGenerateContent"))
        {
            await WriteErrorAsync(http, format, StatusCodes.Status404NotFound, $"Method not found: '{rest}'.");
            return;
        }
        var model = Uri.UnescapeDataString(rest[..colon]);
        var body = await SimulatorEndpoints.ReadBodyAsync(http);
        SimulatedPrompt prompt;
        try
        {
            prompt = GeminiPromptReader.Read(body, model, stream: method == "streamGenerateContent");
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException)
        {
            await WriteErrorAsync(http, format, StatusCodes.Status400BadRequest, "Invalid JSON payload received. " + ex.Message);
            return;
        }
        prompt.Model = SimulationFault.StripFromModel(prompt.Model, out var fault);
        await SimulatorResponder.RespondAsync(http, prompt, fault, format, behavior, http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System);
    }

    private static async Task WriteErrorAsync(HttpContext http, GeminiWireFormat format, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(format.RenderError(status, message), http.RequestAborted);
    }
}
