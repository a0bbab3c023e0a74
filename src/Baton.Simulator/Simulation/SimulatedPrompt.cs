namespace Baton.Simulation;

/// <summary>A request as the simulator sees it, whatever wire format it arrived in.</summary>
public sealed class SimulatedPrompt
{
    public required string Model { get; set; }

    public List<SimulatedMessage> Messages { get; } = [];

    public List<SimulatedTool> Tools { get; } = [];

    /// <summary>The tool the caller forced, if any.</summary>
    public string? ForcedTool { get; set; }

    /// <summary>False when the caller said tools must not be used (<c>tool_choice: none</c>).</summary>
    public bool ToolsAllowed { get; set; } = true;

    public int? MaxTokens { get; set; }

    public bool Stream { get; set; }

    /// <summary><c>json_object</c> or <c>json_schema</c> when the caller asked for JSON; null for text.</summary>
    public string? ResponseFormat { get; set; }

    /// <summary>The JSON Schema the answer must follow (with <c>json_schema</c>), as JSON text.</summary>
    public string? ResponseSchemaJson { get; set; }
}

/// <summary>One message: its role and its text (tool results and calls included as text).</summary>
public sealed record SimulatedMessage(string Role, string Text, bool IsToolResult = false);

/// <summary>A tool the caller offered: its name and JSON Schema parameters (as JSON text).</summary>
public sealed record SimulatedTool(string Name, string? ParametersSchemaJson);
