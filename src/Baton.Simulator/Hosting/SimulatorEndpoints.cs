using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Baton.Gateway.Simulation;

/// <summary>
/// The HTTP simulator (<c>baton simulate</c>): simulated models behind the OpenAI, Anthropic, Gemini and
/// Ollama wire formats, at the paths those providers use, so that each Baton provider can be pointed at it.
/// </summary>
public static class SimulatorEndpoints
{
    public static IEndpointRouteBuilder MapBatonSimulator(this IEndpointRouteBuilder endpoints, SimulatorBehavior? behavior = null)
    {
        behavior ??= new SimulatorBehavior();
        var openAi = new OpenAiWireFormat();
        var azure = new OpenAiWireFormat(contentFilterPreamble: true);
        RequestDelegate openAiHandler = http => HandleOpenAiAsync(http, openAi, behavior);
        RequestDelegate azureHandler = http => HandleOpenAiAsync(http, azure, behavior);
        // OpenAI and compatibles; GitHub Models (/inference) and Azure AI Inference (/models), whose streams
        // start with a content-filter preamble.
        endpoints.MapPost("/v1/chat/completions", openAiHandler);
        endpoints.MapPost("/chat/completions", openAiHandler);
        endpoints.MapPost("/inference/chat/completions", azureHandler);
        endpoints.MapPost("/models/chat/completions", azureHandler);
        endpoints.MapGet("/v1/models", () => Results.Json(new
        {
            @object = "list",
            data = new[] { new { id = "baton-sim-1", @object = "model", created = 0, owned_by = "baton-simulator" } },
        }));
        endpoints.MapAnthropicSimulator(behavior);
        endpoints.MapGeminiSimulator(behavior);
        endpoints.MapOllamaSimulator(behavior);
        endpoints.MapEmbeddingsSimulator(behavior);
        endpoints.MapGet("/health", () => Results.Json(new { status = "ok" }));
        return endpoints;
    }

    private static async Task HandleOpenAiAsync(HttpContext http, OpenAiWireFormat format, SimulatorBehavior behavior)
    {
        if (await SimulatorResponder.ReadPromptAsync(http, format, body => OpenAiPromptReader.Read(body), "Invalid JSON: ") is { } prompt)
        {
            await SimulatorResponder.RespondAsync(http, prompt, format, behavior);
        }
    }
}
