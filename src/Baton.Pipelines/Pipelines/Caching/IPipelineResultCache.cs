using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Baton.Pipelines.Caching;

/// <summary>Where a pipeline keeps its steps' results between runs, by a key that says what each depended on.</summary>
public interface IPipelineResultCache
{
    Task<CachedStepResult?> GetAsync(string key, CancellationToken cancellationToken);

    Task SetAsync(string key, CachedStepResult result, CancellationToken cancellationToken);
}

/// <summary>A step's result as cached: its output and the model that produced it.</summary>
public sealed record CachedStepResult(
    [property: JsonPropertyName("output")] JsonNode? Output,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("coercions")] IReadOnlyList<string> Coercions);
