using System.Text.Json;
using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Simulation;

/// <summary>
/// The simulator's embeddings, at each provider's path: OpenAI's <c>/v1/embeddings</c> (and <c>/embeddings</c>), GitHub
/// Models' <c>/inference/embeddings</c>, Azure AI Inference's <c>/models/embeddings</c>, an Azure OpenAI deployment's
/// <c>/openai/deployments/{deployment}/embeddings?api-version=</c>, Ollama's <c>/api/embed</c>, and (through
/// <see cref="GeminiSimulatorEndpoint"/>) Gemini's <c>:embedContent</c> and <c>:batchEmbedContents</c>. Faults and
/// latency are asked for as for chat (a <c>@fault</c> model suffix or the fault header).
/// </summary>
internal static class EmbeddingsSimulatorEndpoints
{
    public static void MapEmbeddingsSimulator(this IEndpointRouteBuilder endpoints, SimulatorBehavior behavior)
    {
        var openAi = new OpenAiWireFormat();
        RequestDelegate openAiHandler = http => RespondAsync(http, openAi, behavior, body => EmbeddingsWireFormat.ReadOpenAi(body), EmbeddingsWireFormat.RenderOpenAi);
        endpoints.MapPost("/v1/embeddings", openAiHandler);
        endpoints.MapPost("/embeddings", openAiHandler);
        endpoints.MapPost("/inference/embeddings", openAiHandler);
        endpoints.MapPost("/models/embeddings", openAiHandler);
        endpoints.MapPost("/openai/deployments/{deployment}/embeddings", (HttpContext http, string deployment) =>
            http.Request.Query.ContainsKey("api-version")
                ? RespondAsync(http, openAi, behavior, body => EmbeddingsWireFormat.ReadOpenAi(body, deployment), EmbeddingsWireFormat.RenderOpenAi)
                // What Azure OpenAI answers to a request without a version.
                : SimulatorResponder.WriteErrorAsync(http, openAi, StatusCodes.Status400BadRequest, "Missing API version parameter 'api-version'."));
        var ollama = new OllamaWireFormat();
        endpoints.MapPost("/api/embed", http => RespondAsync(http, ollama, behavior, EmbeddingsWireFormat.ReadOllama, EmbeddingsWireFormat.RenderOllama));
    }

    /// <summary>Gemini's <c>models/{model}:embedContent</c> (<paramref name="batch"/> false) or <c>:batchEmbedContents</c>.</summary>
    public static Task RespondGeminiAsync(HttpContext http, string model, bool batch, GeminiWireFormat format, SimulatorBehavior behavior) =>
        RespondAsync(http, format, behavior, body => EmbeddingsWireFormat.ReadGemini(body, model, batch), request => EmbeddingsWireFormat.RenderGemini(request, batch));

    private static async Task RespondAsync(HttpContext http, ISimulatorWireFormat format, SimulatorBehavior defaults,
        Func<byte[], SimulatedEmbeddingRequest> read, Func<SimulatedEmbeddingRequest, byte[]> render)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        SimulatedEmbeddingRequest request;
        try
        {
            request = read(buffer.ToArray());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            await SimulatorResponder.WriteErrorAsync(http, format, StatusCodes.Status400BadRequest, "Invalid embeddings request: " + ex.Message);
            return;
        }
        var model = SimulationFault.StripFromModel(request.Model, out var fault);
        if (SimulationFault.TryParse(http.Request.Headers[SimulationFault.HeaderName], out var headerFault))
        {
            fault = headerFault;
        }
        var time = http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
        var pacer = new SimulationPacer(SimulatorResponder.ReadBehavior(http.Request, defaults), time);
        if (await SimulatorResponder.FailIfAskedAsync(http, fault, format, pacer))
        {
            return;
        }
        await pacer.WholeAnswerAsync(0, http.RequestAborted);
        http.Response.ContentType = "application/json";
        var body = fault.Kind == SimulationFaultKind.MalformedJson ? "{\"object\":\"list\",\"data\":[{"u8.ToArray() : render(request with { Model = model });
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }
}
