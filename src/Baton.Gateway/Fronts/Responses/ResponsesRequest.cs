using System.Text.Json.Nodes;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// A <c>POST /v1/responses</c> body once checked: what becomes the chat request, and what the response object echoes
/// back (instructions, tools, tool choice, text format, sampling, metadata), as OpenAI's response object does.
/// </summary>
internal sealed class ResponsesRequest
{
    public required string Model { get; init; }

    /// <summary>This request's own input items, in the Responses shape, each with its <c>type</c> and an <c>id</c>.</summary>
    public required JsonArray InputItems { get; init; }

    public string? Instructions { get; init; }

    /// <summary>The function tools in the Responses shape (<c>{"type":"function","name",...}</c>).</summary>
    public JsonArray Tools { get; init; } = [];

    /// <summary><c>auto</c>, <c>none</c>, <c>required</c> or <c>{"type":"function","name":...}</c>; null when not given.</summary>
    public JsonNode? ToolChoice { get; init; }

    /// <summary>The <c>text.format</c> object; null when not given (plain text).</summary>
    public JsonObject? TextFormat { get; init; }

    public double? Temperature { get; init; }

    public double? TopP { get; init; }

    public int? MaxOutputTokens { get; init; }

    public bool? ParallelToolCalls { get; init; }

    /// <summary>The <c>reasoning.effort</c> asked for, passed on as <c>reasoning_effort</c>.</summary>
    public string? ReasoningEffort { get; init; }

    /// <summary>String keys and values, echoed back and passed on (Baton reads <c>task</c>, <c>session_id</c>, ... from it).</summary>
    public JsonObject Metadata { get; init; } = [];

    public string? User { get; init; }

    public bool Stream { get; init; }

    /// <summary>Whether the response is kept for <c>previous_response_id</c> and <c>GET</c>. Default true, as OpenAI.</summary>
    public bool Store { get; init; } = true;

    public string? PreviousResponseId { get; init; }
}
