using System.Text;
using System.Text.Json;

namespace Baton.Simulation.Wire;

/// <summary>Reads an OpenAI Chat Completions request (also GitHub Models / Azure AI Inference) into a <see cref="SimulatedPrompt"/>.</summary>
public static class OpenAiPromptReader
{
    public static SimulatedPrompt Read(ReadOnlySpan<byte> body, string? modelOverride = null)
    {
        using var document = JsonDocument.Parse(body.ToArray());
        var root = document.RootElement;
        var prompt = new SimulatedPrompt
        {
            Model = modelOverride ?? (root.TryGetProperty("model", out var model) ? model.GetString() ?? "" : ""),
            Stream = root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True,
            MaxTokens = ReadInt(root, "max_completion_tokens") ?? ReadInt(root, "max_tokens"),
        };

        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                var role = message.TryGetProperty("role", out var r) ? r.GetString() ?? "user" : "user";
                var text = new StringBuilder(ContentText(message));
                if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        if (call.TryGetProperty("function", out var function))
                        {
                            text.Append(" called ").Append(function.GetProperty("name").GetString())
                                .Append(function.TryGetProperty("arguments", out var args) ? args.GetString() : "");
                        }
                    }
                }
                prompt.Messages.Add(new SimulatedMessage(role, text.ToString(), IsToolResult: role is "tool" or "function"));
            }
        }

        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (tool.TryGetProperty("function", out var function) && function.TryGetProperty("name", out var name))
                {
                    var parameters = function.TryGetProperty("parameters", out var schema) ? schema.GetRawText() : null;
                    prompt.Tools.Add(new SimulatedTool(name.GetString()!, parameters));
                }
            }
        }

        if (root.TryGetProperty("tool_choice", out var choice))
        {
            if (choice.ValueKind == JsonValueKind.String)
            {
                prompt.ToolsAllowed = choice.GetString() != "none";
            }
            else if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var forced) && forced.TryGetProperty("name", out var forcedName))
            {
                prompt.ForcedTool = forcedName.GetString();
            }
        }
        if (root.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var type) && type.GetString() is "json_object" or "json_schema")
        {
            prompt.ResponseFormat = type.GetString();
            if (format.TryGetProperty("json_schema", out var jsonSchema) && jsonSchema.ValueKind == JsonValueKind.Object
                && jsonSchema.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
            {
                prompt.ResponseSchemaJson = schema.GetRawText();
            }
        }
        return prompt;
    }

    private static string ContentText(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            return "";
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.TryGetProperty("text", out var partText) && partText.ValueKind == JsonValueKind.String)
            {
                text.Append(partText.GetString());
            }
        }
        return text.ToString();
    }

    private static int? ReadInt(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;
}
