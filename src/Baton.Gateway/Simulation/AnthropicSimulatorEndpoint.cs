using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Simulation;

/// <summary>The simulator's Anthropic face: <c>POST /v1/messages</c> in the Messages wire format.</summary>
internal static class AnthropicSimulatorEndpoint
{
    internal static void MapAnthropicSimulator(this IEndpointRouteBuilder endpoints, SimulatorBehavior behavior)
    {
        var format = new AnthropicWireFormat();
        endpoints.MapPost("/v1/messages", http => HandleAsync(http, format, behavior));
    }

    private static async Task HandleAsync(HttpContext http, AnthropicWireFormat format, SimulatorBehavior behavior)
    {
        // Anthropic refuses requests without a version; so does the simulator, so a provider that forgets it fails here.
        if (string.IsNullOrEmpty(http.Request.Headers["anthropic-version"]))
        {
            await WriteBadRequestAsync(http, format, "anthropic-version: header is required");
            return;
        }
        var body = await SimulatorEndpoints.ReadBodyAsync(http);
        SimulatedPrompt prompt;
        try
        {
            prompt = AnthropicPromptReader.Read(body);
        }
        catch (System.Text.Json.JsonException ex)
        {
            await WriteBadRequestAsync(http, format, "Invalid JSON: " + ex.Message);
            return;
        }
        prompt.Model = SimulationFault.StripFromModel(prompt.Model, out var fault);
        await SimulatorResponder.RespondAsync(http, prompt, fault, format, behavior, http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System);
    }

    private static async Task WriteBadRequestAsync(HttpContext http, AnthropicWireFormat format, string message)
    {
        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(format.RenderError(400, message), http.RequestAborted);
    }
}
