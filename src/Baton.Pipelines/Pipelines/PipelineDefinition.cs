using System.Text.Json;
using Baton.Pipelines.Outputs;

namespace Baton.Pipelines;

/// <summary>
/// A multi-model pipeline as declared in a file (JSON or YAML): named steps, each asking a model (or a task's
/// tier) with a prompt template, and producing text or JSON. Steps without dependencies run in parallel; a
/// step that uses another's output waits for it. Load one with <see cref="PipelineLoader"/>.
/// </summary>
public sealed class PipelineDefinition
{
    public required string Name { get; init; }

    public string? Description { get; init; }

    /// <summary>The prompts' version: part of every cached result's key, so changing it makes old results stale.</summary>
    public required string Version { get; init; }

    /// <summary>The steps in the order the file declares them.</summary>
    public required IReadOnlyList<PipelineStep> Steps { get; init; }

    /// <summary>Where the definition came from (a file path, or <c>built-in</c>), for messages.</summary>
    public required string Source { get; init; }

    public PipelineStep? Find(string name) => Steps.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
}

/// <summary>One step of a pipeline.</summary>
public sealed class PipelineStep
{
    public required string Name { get; init; }

    /// <summary>A configured model to ask; null when the step routes by <see cref="Task"/>.</summary>
    public string? Model { get; init; }

    /// <summary>A task type routed to its tier (the model <c>auto</c>); null when the step names a model.</summary>
    public string? Task { get; init; }

    /// <summary>Models to ask, in order, when the step's model has failed.</summary>
    public IReadOnlyList<string> Fallbacks { get; init; } = [];

    /// <summary>The user prompt.</summary>
    public required PromptTemplate Prompt { get; init; }

    /// <summary>An optional system prompt.</summary>
    public PromptTemplate? System { get; init; }

    public PipelineOutputKind Output { get; init; } = PipelineOutputKind.Text;

    /// <summary>The JSON Schema a <see cref="PipelineOutputKind.Json"/> output must follow; null accepts any object.</summary>
    public JsonElement? Schema { get; init; }

    /// <summary>Whether to send OpenAI's <c>response_format</c> for JSON outputs (some providers refuse it). Default true.</summary>
    public bool UseResponseFormat { get; init; } = true;

    public double? Temperature { get; init; }

    public int? MaxTokens { get; init; }

    /// <summary>Steps whose outputs this one uses: those it names in <c>needs</c> and those its templates refer to.</summary>
    public IReadOnlyList<string> Needs { get; init; } = [];

    /// <summary>
    /// What a cached result of this step depends on, besides the step itself and its dependencies' results: a
    /// template rendered from the run's input (e.g. a fingerprint of the files the step looks at). Null: the
    /// rendered prompt.
    /// </summary>
    public PromptTemplate? CacheKey { get; init; }

    /// <summary>The output used when every model failed (a JSON object for JSON steps), marked <c>fallback: true</c>.</summary>
    public JsonElement? Fallback { get; init; }

    private JsonOutputReader? _outputReader;

    /// <summary>Reads and checks this step's JSON answers against <see cref="Schema"/> (the loader has checked that the schema builds).</summary>
    public JsonOutputReader OutputReader => _outputReader ??= new JsonOutputReader(Schema);
}

/// <summary>What a step produces.</summary>
public enum PipelineOutputKind
{
    /// <summary>The model's answer as text.</summary>
    Text,

    /// <summary>A JSON value read tolerantly from the answer and checked against the step's schema.</summary>
    Json,
}
