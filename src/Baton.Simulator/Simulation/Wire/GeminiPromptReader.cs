using System.Text;
using System.Text.Json;

namespace Baton.Simulation.Wire;

/// <summary>
/// Reads a Gemini <c>GenerateContentRequest</c> into a <see cref="SimulatedPrompt"/>. The model and whether
/// to stream are not in the body: they come from the URL (<c>models/{model}:streamGenerateContent</c>).
/// </summary>
public static class GeminiPromptReader
{
    public static SimulatedPrompt Read(ReadOnlySpan<byte> body, string model, bool stream)
    {
        var reader = new Utf8JsonReader(body);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var prompt = new SimulatedPrompt { Model = model, Stream = stream };

        if (root.TryGetProperty("systemInstruction", out var system))
        {
            prompt.Messages.Add(new SimulatedMessage("system", ReadParts(system, out _)));
        }
        if (root.TryGetProperty("contents", out var contents) && contents.ValueKind == JsonValueKind.Array)
        {
            foreach (var content in contents.EnumerateArray())
            {
                var role = content.TryGetProperty("role", out var r) && r.GetString() == "model" ? "assistant" : "user";
                var text = ReadParts(content, out var answersCall);
                prompt.Messages.Add(new SimulatedMessage(answersCall ? "tool" : role, text, IsToolResult: answersCall));
            }
        }
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (!tool.TryGetProperty("functionDeclarations", out var declarations) || declarations.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }
                foreach (var declaration in declarations.EnumerateArray())
                {
                    var schema = declaration.TryGetProperty("parameters", out var parameters) ? parameters.GetRawText()
                        : declaration.TryGetProperty("parametersJsonSchema", out var jsonSchema) ? jsonSchema.GetRawText()
                        : null;
                    prompt.Tools.Add(new SimulatedTool(declaration.GetProperty("name").GetString()!, schema));
                }
            }
        }
        if (root.TryGetProperty("toolConfig", out var toolConfig) && toolConfig.TryGetProperty("functionCallingConfig", out var calling))
        {
            var mode = calling.TryGetProperty("mode", out var m) ? m.GetString() : null;
            prompt.ToolsAllowed = mode != "NONE";
            if (mode == "ANY" && calling.TryGetProperty("allowedFunctionNames", out var allowed) && allowed.ValueKind == JsonValueKind.Array && allowed.GetArrayLength() > 0)
            {
                prompt.ForcedTool = allowed[0].GetString();
            }
        }
        if (root.TryGetProperty("generationConfig", out var json) && json.ValueKind == JsonValueKind.Object
            && json.TryGetProperty("responseMimeType", out var mime) && mime.GetString() == "application/json")
        {
            var hasSchema = json.TryGetProperty("responseJsonSchema", out var schema) || json.TryGetProperty("responseSchema", out schema);
            prompt.ResponseFormat = hasSchema ? "json_schema" : "json_object";
            prompt.ResponseSchemaJson = hasSchema ? schema.GetRawText() : null;
        }
        if (root.TryGetProperty("generationConfig", out var config) &&
            config.TryGetProperty("maxOutputTokens", out var max) && max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out var maxTokens))
        {
            prompt.MaxTokens = maxTokens;
        }
        return prompt;
    }

    /// <summary>The text of a content's parts, with function calls and results written out as text.</summary>
    private static string ReadParts(JsonElement content, out bool answersCall)
    {
        answersCall = false;
        var text = new StringBuilder();
        if (!content.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array)
        {
            return "";
        }
        foreach (var part in parts.EnumerateArray())
        {
            if (part.TryGetProperty("text", out var partText) && partText.ValueKind == JsonValueKind.String)
            {
                text.Append(partText.GetString());
            }
            else if (part.TryGetProperty("functionCall", out var call))
            {
                text.Append(" called ").Append(call.GetProperty("name").GetString())
                    .Append(call.TryGetProperty("args", out var args) ? args.GetRawText() : "");
            }
            else if (part.TryGetProperty("functionResponse", out var response))
            {
                answersCall = true;
                text.Append(response.TryGetProperty("response", out var result) ? result.GetRawText() : "");
            }
        }
        return text.ToString();
    }
}
