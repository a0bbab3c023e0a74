using System.Text;
using System.Text.Json;

namespace Baton.Simulation.Wire;

/// <summary>
/// Reads an Ollama <c>/api/chat</c> request into a <see cref="SimulatedPrompt"/>. Ollama streams unless the
/// request says <c>"stream": false</c>, and takes the answer's length limit from <c>options.num_predict</c>.
/// </summary>
public static class OllamaPromptReader
{
    public static SimulatedPrompt Read(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("Expected a JSON object.");
        }
        var prompt = new SimulatedPrompt
        {
            Model = root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString()! : "",
            Stream = !(root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.False),
            MaxTokens = root.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Object
                && options.TryGetProperty("num_predict", out var limit) && limit.ValueKind == JsonValueKind.Number && limit.TryGetInt32(out var max) && max >= 0
                ? max
                : null,
        };

        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "user";
                prompt.Messages.Add(new SimulatedMessage(role, MessageText(message), IsToolResult: role == "tool"));
            }
        }

        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (tool.TryGetProperty("function", out var function) && function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    var parameters = function.TryGetProperty("parameters", out var schema) ? schema.GetRawText() : null;
                    prompt.Tools.Add(new SimulatedTool(name.GetString()!, parameters));
                }
            }
        }
        if (root.TryGetProperty("format", out var format))
        {
            // Ollama takes "json" or a JSON Schema object.
            prompt.ResponseFormat = format.ValueKind == JsonValueKind.Object ? "json_schema" : format.ValueKind == JsonValueKind.String ? "json_object" : null;
            prompt.ResponseSchemaJson = format.ValueKind == JsonValueKind.Object ? format.GetRawText() : null;
        }
        return prompt;
    }

    /// <summary>The message's text, with any tool calls it made written out, so they count towards the prompt.</summary>
    private static string MessageText(JsonElement message)
    {
        var text = new StringBuilder(message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : "");
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                if (call.TryGetProperty("function", out var function) && function.TryGetProperty("name", out var name))
                {
                    text.Append(" called ").Append(name.GetString())
                        .Append(function.TryGetProperty("arguments", out var arguments) ? arguments.GetRawText() : "");
                }
            }
        }
        return text.ToString();
    }
}
