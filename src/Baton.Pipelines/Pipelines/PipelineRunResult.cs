using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Baton.Pipelines;

/// <summary>What a pipeline run produced: every step's output, how each was obtained, and seed 000's run metadata.</summary>
public sealed record PipelineRunResult(
    [property: JsonPropertyName("pipeline"), JsonPropertyOrder(-2)] string Pipeline,
    [property: JsonPropertyName("steps")] IReadOnlyDictionary<string, PipelineStepResult> Steps,
    [property: JsonPropertyName("metadata")] PipelineRunMetadata Metadata)
{
    /// <summary>Each step's output by step name (written once, here, rather than again inside each step).</summary>
    [JsonPropertyName("outputs")]
    [JsonPropertyOrder(-1)]
    public IReadOnlyDictionary<string, JsonNode?> Outputs { get; } = Steps.ToDictionary(s => s.Key, s => s.Value.Output, StringComparer.Ordinal);
}

/// <summary>One step's output and how it was obtained.</summary>
public sealed record PipelineStepResult(
    [property: JsonIgnore] JsonNode? Output,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("cached")] bool Cached,
    [property: JsonPropertyName("fallback")] bool Fallback,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("api_calls")] int ApiCalls,
    [property: JsonPropertyName("reasked")] bool Reasked,
    [property: JsonPropertyName("coercions")] IReadOnlyList<string> Coercions,
    [property: JsonPropertyName("started_ms")] double StartedMs,
    [property: JsonPropertyName("finished_ms")] double FinishedMs);

/// <summary>Seed 000's run metadata.</summary>
public sealed record PipelineRunMetadata(
    [property: JsonPropertyName("models_used")] IReadOnlyList<string> ModelsUsed,
    [property: JsonPropertyName("total_time_seconds")] double TotalTimeSeconds,
    [property: JsonPropertyName("cache_hits")] int CacheHits,
    [property: JsonPropertyName("api_calls")] int ApiCalls);

/// <summary>A step's progress, for a live display.</summary>
public sealed record PipelineStepEvent(string Step, PipelineStepState State, PipelineStepResult? Result);

public enum PipelineStepState
{
    Started,
    Finished,
}
