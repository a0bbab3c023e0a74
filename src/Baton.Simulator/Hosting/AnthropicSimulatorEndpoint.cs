using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Baton.Gateway.Simulation;

/// <summary>
/// The simulator's Anthropic face: <c>POST /v1/messages</c> in the Messages wire format, and
/// <c>POST /v1/messages/count_tokens</c>, which counts the prompt as the answers' usage does.
/// </summary>
internal static class AnthropicSimulatorEndpoint
{
    internal static void MapAnthropicSimulator(this IEndpointRouteBuilder endpoints, SimulatorBehavior behavior)
    {
        var format = new AnthropicWireFormat();
        endpoints.MapPost("/v1/messages", http => HandleAsync(http, format, behavior));
        endpoints.MapPost("/v1/messages/count_tokens", http => CountTokensAsync(http, format));
    }

    private static async Task CountTokensAsync(HttpContext http, AnthropicWireFormat format)
    {
        if (string.IsNullOrEmpty(http.Request.Headers["anthropic-version"]))
        {
            await SimulatorResponder.WriteErrorAsync(http, format, StatusCodes.Status400BadRequest, "anthropic-version: header is required");
        }
        else if (await SimulatorResponder.ReadPromptAsync(http, format, body => AnthropicPromptReader.Read(body), "Invalid JSON: ") is { } prompt)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync($"{{\"input_tokens\":{SimulatedModel.CountPromptTokens(prompt).ToString(System.Globalization.CultureInfo.InvariantCulture)}}}", http.RequestAborted);
        }
    }

    private static async Task HandleAsync(HttpContext http, AnthropicWireFormat format, SimulatorBehavior behavior)
    {
        // Anthropic refuses requests without a version; so does the simulator, so a provider that forgets it fails here.
        if (string.IsNullOrEmpty(http.Request.Headers["anthropic-version"]))
        {
            await SimulatorResponder.WriteErrorAsync(http, format, StatusCodes.Status400BadRequest, "anthropic-version: header is required");
        }
        else if (await SimulatorResponder.ReadPromptAsync(http, format, body => AnthropicPromptReader.Read(body), "Invalid JSON: ") is { } prompt)
        {
            await SimulatorResponder.RespondAsync(http, prompt, format, behavior);
        }
    }
}
