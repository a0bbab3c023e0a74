using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Baton.Configuration;
using Baton.Errors;
using Baton.Pipelines;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>GET /v1/pipelines</c> lists the configured pipelines; <c>POST /v1/pipelines/{name}/runs</c> runs one on
/// the body's <c>input</c> and answers with every step's output and the run's metadata.
/// </summary>
internal static class PipelineEndpoints
{
    public static PipelineListView List(PipelineCatalog catalog) =>
        new("list", catalog.All.OrderBy(p => p.Name, StringComparer.Ordinal).Select(View).ToList());

    /// <remarks>A <see cref="BatonException"/> thrown here is written in OpenAI's error shape by MapBaton's endpoint filter.</remarks>
    public static async Task RunAsync(HttpContext http, string name, PipelineCatalog catalog, PipelineRunner runner, BatonOptions options)
    {
        var pipeline = catalog.Find(name) ?? throw new BatonException(StatusCodes.Status404NotFound, ErrorTypes.InvalidRequest,
            $"The pipeline '{name}' does not exist (available: {string.Join(", ", catalog.All.Select(p => p.Name).Order(StringComparer.Ordinal))}).",
            "name", "pipeline_not_found");
        var input = await ReadInputAsync(http, options);
        var caller = GatewayRequestOptions.Identity(http, fingerprintKey: false);
        // Steps that name a model are checked before anything runs; steps routed by task are checked by the engine.
        if (caller.Key is { } key && pipeline.Steps.FirstOrDefault(s => s.Model is { } model && !key.Allows(model)) is { } refused)
        {
            throw new BatonException(StatusCodes.Status403Forbidden, ErrorTypes.InvalidRequest,
                $"Step '{refused.Name}' uses the model '{refused.Model}', which the key '{key.Name ?? key.Id}' may not use (it may use: {string.Join(", ", key.Models!)}).",
                "name", "model_not_allowed");
        }
        PipelineRunResult result;
        try
        {
            result = await runner.RunAsync(pipeline, input, caller: caller, cancellationToken: http.RequestAborted);
        }
        catch (PipelineInputException ex)
        {
            throw BatonException.InvalidRequest(string.Join(" ", ex.Errors), "input", "missing_placeholder");
        }
        await Results.Json(result).ExecuteAsync(http);
    }

    private static async Task<JsonObject> ReadInputAsync(HttpContext http, BatonOptions options)
    {
        using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
        JsonNode? root;
        try
        {
            Requests.JsonStringCheck.Validate(body.Memory.Span);
            root = JsonNode.Parse(body.Memory.Span, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            throw BatonException.InvalidRequest($"The body is not valid JSON: {ex.Message}", null, "invalid_json");
        }
        if (root is not JsonObject request || request["input"] is not JsonObject input)
        {
            throw BatonException.InvalidRequest("The body must be an object whose 'input' is an object: {\"input\": {...}}.", "input", "missing_required_parameter");
        }
        request.Remove("input");
        return input;
    }

    private static PipelineView View(PipelineDefinition pipeline) => new(
        pipeline.Name,
        "pipeline",
        pipeline.Description,
        pipeline.Version,
        pipeline.Steps.Select(s => new PipelineStepView(s.Name, s.Model, s.Task, s.Output == PipelineOutputKind.Json ? "json" : "text", s.Needs)).ToList());
}

internal sealed record PipelineListView(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<PipelineView> Data);

internal sealed record PipelineView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("steps")] IReadOnlyList<PipelineStepView> Steps);

internal sealed record PipelineStepView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("task")] string? Task,
    [property: JsonPropertyName("output")] string Output,
    [property: JsonPropertyName("needs")] IReadOnlyList<string> Needs);
