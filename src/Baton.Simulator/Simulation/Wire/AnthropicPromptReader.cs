using System.Text;
using System.Text.Json;

namespace Baton.Simulation.Wire;

/// <summary>Reads an Anthropic Messages request into a <see cref="SimulatedPrompt"/>.</summary>
public static class AnthropicPromptReader
{
    public static SimulatedPrompt Read(ReadOnlySpan<byte> body)
    {
        using var document = JsonDocument.Parse(body.ToArray());
        var root = document.RootElement;
        var prompt = new SimulatedPrompt
        {
            Model = String(root, "model") ?? "",
            Stream = root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True,
            MaxTokens = root.TryGetProperty("max_tokens", out var max) && max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out var limit) ? limit : null,
        };

        // The system prompt is a string or a list of text blocks.
        if (root.TryGetProperty("system", out var system) && BlocksText(system, out _) is { Length: > 0 } systemText)
        {
            prompt.Messages.Add(new SimulatedMessage("system", systemText));
        }
        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                var role = String(message, "role") ?? "user";
                var hasToolResult = false;
                var text = message.TryGetProperty("content", out var content) ? BlocksText(content, out hasToolResult) : "";
                prompt.Messages.Add(new SimulatedMessage(role, text, IsToolResult: hasToolResult));
            }
        }
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (String(tool, "name") is { } name)
                {
                    prompt.Tools.Add(new SimulatedTool(name, tool.TryGetProperty("input_schema", out var schema) ? schema.GetRawText() : null));
                }
            }
        }
        if (root.TryGetProperty("tool_choice", out var choice) && choice.ValueKind == JsonValueKind.Object)
        {
            switch (String(choice, "type"))
            {
                case "none":
                    prompt.ToolsAllowed = false;
                    break;
                case "tool":
                    prompt.ForcedTool = String(choice, "name");
                    break;
            }
        }
        return prompt;
    }

    /// <summary>The text of a content value (a string or blocks), with tool calls and results as text.</summary>
    private static string BlocksText(JsonElement content, out bool hasToolResult)
    {
        hasToolResult = false;
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }
        var text = new StringBuilder();
        foreach (var block in content.EnumerateArray())
        {
            switch (String(block, "type"))
            {
                case "text":
                    text.Append(String(block, "text"));
                    break;
                case "tool_use":
                    text.Append(" called ").Append(String(block, "name"))
                        .Append(block.TryGetProperty("input", out var input) ? input.GetRawText() : "");
                    break;
                case "tool_result":
                    hasToolResult = true;
                    if (block.TryGetProperty("content", out var result))
                    {
                        text.Append(BlocksText(result, out _));
                    }
                    break;
            }
        }
        return text.ToString();
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
