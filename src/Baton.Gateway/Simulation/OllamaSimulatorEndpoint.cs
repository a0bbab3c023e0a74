using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Simulation;

/// <summary>The simulator's Ollama face: <c>POST /api/chat</c> (streaming unless told not to) and <c>GET /api/tags</c>.</summary>
internal static class OllamaSimulatorEndpoint
{
    private const string ModelName = "baton-sim-1";

    internal static void MapOllamaSimulator(this IEndpointRouteBuilder endpoints, SimulatorBehavior behavior)
    {
        var format = new OllamaWireFormat();
        endpoints.MapPost("/api/chat", http => HandleChatAsync(http, format, behavior));
        endpoints.MapGet("/api/tags", () => Results.Json(new
        {
            models = new[]
            {
                new
                {
                    name = ModelName,
                    model = ModelName,
                    modified_at = "2025-01-01T00:00:00Z",
                    size = 0,
                    digest = "",
                    details = new { format = "simulated", family = "baton", parameter_size = "0B", quantization_level = "none" },
                },
            },
        }));
    }

    private static async Task HandleChatAsync(HttpContext http, OllamaWireFormat format, SimulatorBehavior behavior)
    {
        var body = await SimulatorEndpoints.ReadBodyAsync(http);
        SimulatedPrompt prompt;
        try
        {
            prompt = OllamaPromptReader.Read(body);
        }
        catch (System.Text.Json.JsonException ex)
        {
            await WriteBadRequestAsync(http, format, "invalid JSON: " + ex.Message);
            return;
        }
        if (prompt.Model.Length == 0)
        {
            // What Ollama itself answers to a request without a model.
            await WriteBadRequestAsync(http, format, "model is required");
            return;
        }
        prompt.Model = SimulationFault.StripFromModel(prompt.Model, out var fault);
        await SimulatorResponder.RespondAsync(http, prompt, fault, format, behavior, http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System);
    }

    private static async Task WriteBadRequestAsync(HttpContext http, OllamaWireFormat format, string message)
    {
        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(format.RenderError(400, message), http.RequestAborted);
    }
}
