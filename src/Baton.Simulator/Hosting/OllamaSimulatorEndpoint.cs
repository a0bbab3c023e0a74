using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

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
        if (await SimulatorResponder.ReadPromptAsync(http, format, body => OllamaPromptReader.Read(body), "invalid JSON: ") is not { } prompt)
        {
            return;
        }
        if (prompt.Model.Length == 0)
        {
            // What Ollama itself answers to a request without a model.
            await SimulatorResponder.WriteErrorAsync(http, format, StatusCodes.Status400BadRequest, "model is required");
            return;
        }
        await SimulatorResponder.RespondAsync(http, prompt, format, behavior);
    }
}
