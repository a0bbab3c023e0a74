using Baton.Providers;

namespace Baton.Simulation;

/// <summary>
/// What a simulated model answers: text split into token-sized pieces (for streaming), or one tool call,
/// with a finish reason in OpenAI's vocabulary (<c>stop</c>, <c>length</c>, <c>tool_calls</c>) and usage.
/// </summary>
public sealed class SimulatedAnswer
{
    public required string Id { get; init; }

    public required string Model { get; init; }

    public required long Created { get; init; }

    /// <summary>The answer's text, one entry per token; empty for a tool call.</summary>
    public required IReadOnlyList<string> Pieces { get; init; }

    public SimulatedToolCall? ToolCall { get; init; }

    public required string FinishReason { get; init; }

    public required TokenUsage Usage { get; init; }

    public string Text => string.Concat(Pieces);
}

/// <summary>A tool call: the call id, the tool's name and its arguments as JSON text.</summary>
public sealed record SimulatedToolCall(string Id, string Name, string ArgumentsJson);
