using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Errors;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// Reads and checks a <c>POST /v1/responses</c> body. Every rejection is a 400 in OpenAI's error shape naming the
/// parameter at fault (<c>input[2].content[0].type</c>); fields Baton does not use are accepted and ignored, as the
/// chat front does. Input items are normalised to the Responses shape they are stored and listed in: a string input
/// becomes one user message, string contents become <c>input_text</c> (or, for the assistant, <c>output_text</c>) parts.
/// </summary>
internal static class ResponsesRequestReader
{
    private static readonly string[] Roles = ["user", "assistant", "system", "developer"];

    public static ResponsesRequest Read(ReadOnlyMemory<byte> body)
    {
        try
        {
            return ReadCore(body);
        }
        catch (InvalidOperationException ex)
        {
            // Reading a string holding an escaped lone surrogate (\ud800): valid JSON, but not text.
            throw BatonException.InvalidRequest($"The request holds a string that is not valid Unicode: {ex.Message}", null, "invalid_json");
        }
    }

    private static ResponsesRequest ReadCore(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            throw BatonException.InvalidRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body.Span, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException ex)
        {
            throw BatonException.InvalidRequest($"We could not parse the JSON body of your request: {ex.Message}", null, "invalid_json");
        }
        if (root is not JsonObject request)
        {
            throw BatonException.InvalidRequest("The request body must be a JSON object.", null, "invalid_json");
        }

        var model = OptionalString(request, "model");
        if (model is null)
        {
            throw BatonException.InvalidRequest("You must provide a model parameter.", "model", "missing_required_parameter");
        }
        if (string.IsNullOrWhiteSpace(model))
        {
            throw BatonException.InvalidRequest("'model' must not be empty.", "model");
        }
        if (request["background"] is JsonValue background && background.GetValueKind() == JsonValueKind.True)
        {
            throw BatonException.InvalidRequest("Background responses are not supported by this gateway; leave 'background' out or false.", "background", "unsupported_parameter");
        }
        if (request["conversation"] is { } conversation && conversation.GetValueKind() != JsonValueKind.Null)
        {
            throw BatonException.InvalidRequest("The Conversations API is not supported by this gateway; continue a conversation with 'previous_response_id'.",
                "conversation", "unsupported_parameter");
        }
        var previous = OptionalString(request, "previous_response_id");
        var input = ReadInput(request["input"]);
        if (input.Count == 0 && previous is null)
        {
            throw BatonException.InvalidRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter");
        }

        return new ResponsesRequest
        {
            Model = model,
            InputItems = input,
            Instructions = OptionalString(request, "instructions"),
            Tools = ReadTools(request["tools"]),
            ToolChoice = ReadToolChoice(request["tool_choice"]),
            TextFormat = ReadTextFormat(request["text"]),
            Temperature = OptionalNumber(request, "temperature", 0, 2),
            TopP = OptionalNumber(request, "top_p", 0, 1),
            MaxOutputTokens = OptionalPositiveInteger(request, "max_output_tokens"),
            ParallelToolCalls = OptionalBoolean(request, "parallel_tool_calls"),
            ReasoningEffort = ReadReasoningEffort(request["reasoning"]),
            Metadata = ReadMetadata(request["metadata"]),
            User = OptionalString(request, "user"),
            Stream = OptionalBoolean(request, "stream") ?? false,
            Store = OptionalBoolean(request, "store") ?? true,
            PreviousResponseId = previous,
        };
    }

    private static JsonArray ReadInput(JsonNode? input)
    {
        switch (input?.GetValueKind())
        {
            case null or JsonValueKind.Null:
                return [];
            case JsonValueKind.String:
                return [Message("user", [InputText(input.GetValue<string>())])];
            case JsonValueKind.Array:
                var items = new JsonArray();
                var index = 0;
                foreach (var item in input.AsArray())
                {
                    if (ReadItem(item, $"input[{index}]") is { } normalized)
                    {
                        items.Add(normalized);
                    }
                    index++;
                }
                return items;
            default:
                throw WrongType("input", "a string or an array of input items");
        }
    }

    /// <summary>One input item in its stored shape; null for an item the model is not given again (a reasoning item).</summary>
    private static JsonObject? ReadItem(JsonNode? node, string path)
    {
        if (node is not JsonObject item)
        {
            throw WrongType(path, "an object");
        }
        // An item without a type is a message when it has a role (OpenAI's "easy input message").
        var type = OptionalString(item, "type", path) ?? (item.ContainsKey("role") ? "message" : null);
        switch (type)
        {
            case "message":
                return ReadMessage(item, path);
            case "function_call":
                return new JsonObject
                {
                    ["type"] = "function_call",
                    ["id"] = OptionalString(item, "id", path) ?? ResponseIds.FunctionCall(),
                    ["call_id"] = RequiredString(item, "call_id", path),
                    ["name"] = RequiredString(item, "name", path),
                    ["arguments"] = RequiredString(item, "arguments", path),
                    ["status"] = "completed",
                };
            case "function_call_output":
                return new JsonObject
                {
                    ["type"] = "function_call_output",
                    ["id"] = OptionalString(item, "id", path) ?? ResponseIds.FunctionCallOutput(),
                    ["call_id"] = RequiredString(item, "call_id", path),
                    ["output"] = ReadFunctionOutput(item["output"], $"{path}.output"),
                    ["status"] = "completed",
                };
            case "reasoning":
                // Reasoning is the upstream's own; a chat completion cannot be given it back.
                return null;
            case null:
                throw BatonException.InvalidRequest($"Missing required parameter: '{path}.type'.", $"{path}.type", "missing_required_parameter");
            default:
                throw BatonException.InvalidRequest(
                    $"Invalid value for '{path}.type': '{type}'. This gateway supports the input item types 'message', 'function_call' and 'function_call_output'.",
                    $"{path}.type", "invalid_value");
        }
    }

    private static JsonObject ReadMessage(JsonObject item, string path)
    {
        var role = RequiredString(item, "role", path);
        if (!Roles.Contains(role))
        {
            throw BatonException.InvalidRequest(
                $"Invalid value for '{path}.role': '{role}'. Supported values are: {string.Join(", ", Roles.Select(r => $"'{r}'"))}.",
                $"{path}.role", "invalid_value");
        }
        var content = item["content"];
        var parts = new JsonArray();
        switch (content?.GetValueKind())
        {
            case JsonValueKind.String:
                var text = content.GetValue<string>();
                parts.Add(role == "assistant" ? OutputText(text) : InputText(text));
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var part in content.AsArray())
                {
                    parts.Add(ReadContentPart(part, $"{path}.content[{index}]"));
                    index++;
                }
                break;
            case null or JsonValueKind.Null:
                throw BatonException.InvalidRequest($"Missing required parameter: '{path}.content'.", $"{path}.content", "missing_required_parameter");
            default:
                throw WrongType($"{path}.content", "a string or an array of content parts");
        }
        var message = Message(role, parts);
        if (OptionalString(item, "id", path) is { } id)
        {
            message["id"] = id;
        }
        return message;
    }

    private static JsonObject ReadContentPart(JsonNode? node, string path)
    {
        if (node is not JsonObject part)
        {
            throw WrongType(path, "an object");
        }
        var type = RequiredString(part, "type", path);
        switch (type)
        {
            case "input_text":
                return InputText(RequiredString(part, "text", path));
            case "output_text":
                return OutputText(RequiredString(part, "text", path));
            case "refusal":
                return new JsonObject { ["type"] = "refusal", ["refusal"] = RequiredString(part, "refusal", path) };
            case "input_image":
                if (OptionalString(part, "image_url", path) is not { } url)
                {
                    throw BatonException.InvalidRequest(
                        part.ContainsKey("file_id")
                            ? $"'{path}.file_id' is not supported by this gateway: send the image as 'image_url' (an https URL or a data URL)."
                            : $"Missing required parameter: '{path}.image_url'.",
                        $"{path}.image_url", part.ContainsKey("file_id") ? "unsupported_parameter" : "missing_required_parameter");
                }
                var image = new JsonObject { ["type"] = "input_image", ["image_url"] = url };
                if (OptionalString(part, "detail", path) is { } detail)
                {
                    if (detail is not ("auto" or "low" or "high"))
                    {
                        throw BatonException.InvalidRequest(
                            $"Invalid value for '{path}.detail': '{detail}'. Supported values are: 'auto', 'low' and 'high'.", $"{path}.detail", "invalid_value");
                    }
                    image["detail"] = detail;
                }
                return image;
            default:
                throw BatonException.InvalidRequest(
                    $"Invalid value for '{path}.type': '{type}'. This gateway supports the content types 'input_text', 'input_image', 'output_text' and 'refusal'.",
                    $"{path}.type", "invalid_value");
        }
    }

    /// <summary>A function's output: a string, or text parts (joined, since a chat tool message carries text).</summary>
    private static string ReadFunctionOutput(JsonNode? output, string path)
    {
        switch (output?.GetValueKind())
        {
            case JsonValueKind.String:
                return output.GetValue<string>();
            case JsonValueKind.Array:
                var text = new System.Text.StringBuilder();
                var index = 0;
                foreach (var part in output.AsArray())
                {
                    var partPath = $"{path}[{index++}]";
                    if (part is not JsonObject parts || OptionalString(parts, "type", partPath) != "input_text")
                    {
                        throw BatonException.InvalidRequest($"'{partPath}' must be an 'input_text' part: a function's output is given to the model as text.",
                            partPath, "invalid_value");
                    }
                    text.Append(RequiredString(parts, "text", partPath));
                }
                return text.ToString();
            case null or JsonValueKind.Null:
                throw BatonException.InvalidRequest($"Missing required parameter: '{path}'.", path, "missing_required_parameter");
            default:
                throw WrongType(path, "a string");
        }
    }

    private static JsonArray ReadTools(JsonNode? tools)
    {
        var result = new JsonArray();
        if (tools is null || tools.GetValueKind() == JsonValueKind.Null)
        {
            return result;
        }
        if (tools is not JsonArray array)
        {
            throw WrongType("tools", "an array");
        }
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"tools[{i}]";
            if (array[i] is not JsonObject tool)
            {
                throw WrongType(path, "an object");
            }
            var type = RequiredString(tool, "type", path);
            if (type != "function")
            {
                throw BatonException.InvalidRequest(
                    $"Invalid value for '{path}.type': '{type}'. This gateway runs 'function' tools only; built-in tools (web search, file search, ...) are not available through it.",
                    $"{path}.type", "unsupported_tool");
            }
            var name = RequiredString(tool, "name", path);
            if (name.Length == 0)
            {
                throw BatonException.InvalidRequest($"'{path}.name' must not be empty.", $"{path}.name", "invalid_value");
            }
            var parameters = tool["parameters"];
            if (parameters is not null and not JsonObject && parameters.GetValueKind() != JsonValueKind.Null)
            {
                throw WrongType($"{path}.parameters", "a JSON Schema object");
            }
            result.Add(new JsonObject
            {
                ["type"] = "function",
                ["name"] = name,
                ["description"] = OptionalString(tool, "description", path),
                ["parameters"] = parameters?.DeepClone(),
                ["strict"] = OptionalBoolean(tool, "strict", path),
            });
        }
        return result;
    }

    private static JsonNode? ReadToolChoice(JsonNode? choice)
    {
        switch (choice?.GetValueKind())
        {
            case null or JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                var mode = choice.GetValue<string>();
                if (mode is not ("auto" or "none" or "required"))
                {
                    throw BatonException.InvalidRequest(
                        $"Invalid value for 'tool_choice': '{mode}'. Supported values are: 'auto', 'none' and 'required', or a function.", "tool_choice", "invalid_value");
                }
                return mode;
            case JsonValueKind.Object:
                var forced = choice.AsObject();
                var type = RequiredString(forced, "type", "tool_choice");
                if (type != "function")
                {
                    throw BatonException.InvalidRequest(
                        $"Invalid value for 'tool_choice.type': '{type}'. This gateway runs 'function' tools only.", "tool_choice.type", "invalid_value");
                }
                return new JsonObject { ["type"] = "function", ["name"] = RequiredString(forced, "name", "tool_choice") };
            default:
                throw WrongType("tool_choice", "a string or an object");
        }
    }

    private static JsonObject? ReadTextFormat(JsonNode? text)
    {
        if (text is null || text.GetValueKind() == JsonValueKind.Null)
        {
            return null;
        }
        if (text is not JsonObject options)
        {
            throw WrongType("text", "an object");
        }
        var format = options["format"];
        if (format is null || format.GetValueKind() == JsonValueKind.Null)
        {
            return null;
        }
        if (format is not JsonObject formatObject)
        {
            throw WrongType("text.format", "an object");
        }
        var type = RequiredString(formatObject, "type", "text.format");
        switch (type)
        {
            case "text":
            case "json_object":
                return new JsonObject { ["type"] = type };
            case "json_schema":
                var name = RequiredString(formatObject, "name", "text.format");
                if (formatObject["schema"] is not JsonObject schema)
                {
                    throw formatObject.ContainsKey("schema")
                        ? WrongType("text.format.schema", "a JSON Schema object")
                        : BatonException.InvalidRequest("Missing required parameter: 'text.format.schema'.", "text.format.schema", "missing_required_parameter");
                }
                var result = new JsonObject { ["type"] = "json_schema", ["name"] = name, ["schema"] = schema.DeepClone() };
                if (OptionalString(formatObject, "description", "text.format") is { } description)
                {
                    result["description"] = description;
                }
                result["strict"] = OptionalBoolean(formatObject, "strict", "text.format") ?? false;
                return result;
            default:
                throw BatonException.InvalidRequest(
                    $"Invalid value for 'text.format.type': '{type}'. Supported values are: 'text', 'json_object' and 'json_schema'.",
                    "text.format.type", "invalid_value");
        }
    }

    private static string? ReadReasoningEffort(JsonNode? reasoning)
    {
        if (reasoning is null || reasoning.GetValueKind() == JsonValueKind.Null)
        {
            return null;
        }
        if (reasoning is not JsonObject options)
        {
            throw WrongType("reasoning", "an object");
        }
        return OptionalString(options, "effort", "reasoning");
    }

    private static JsonObject ReadMetadata(JsonNode? metadata)
    {
        if (metadata is null || metadata.GetValueKind() == JsonValueKind.Null)
        {
            return [];
        }
        if (metadata is not JsonObject pairs)
        {
            throw WrongType("metadata", "an object of strings");
        }
        // OpenAI's limits: 16 pairs, keys of at most 64 characters, values of at most 512.
        if (pairs.Count > 16)
        {
            throw BatonException.InvalidRequest($"Invalid 'metadata': {pairs.Count} pairs; at most 16 are allowed.", "metadata", "invalid_value");
        }
        var result = new JsonObject();
        foreach (var (key, value) in pairs)
        {
            if (value?.GetValueKind() != JsonValueKind.String)
            {
                throw WrongType($"metadata.{key}", "a string");
            }
            var text = value.GetValue<string>();
            if (key.Length > 64 || text.Length > 512)
            {
                throw BatonException.InvalidRequest(
                    $"Invalid 'metadata.{key}': keys may have at most 64 characters and values at most 512.", $"metadata.{key}", "invalid_value");
            }
            result[key] = text;
        }
        return result;
    }

    private static JsonObject Message(string role, JsonArray content) => new()
    {
        ["type"] = "message",
        ["id"] = ResponseIds.Message(),
        ["role"] = role,
        ["content"] = content,
        ["status"] = "completed",
    };

    private static JsonObject InputText(string text) => new() { ["type"] = "input_text", ["text"] = text };

    internal static JsonObject OutputText(string text) => new() { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() };

    private static string RequiredString(JsonObject node, string name, string path) =>
        OptionalString(node, name, path) ?? throw BatonException.InvalidRequest(
            $"Missing required parameter: '{Join(path, name)}'.", Join(path, name), "missing_required_parameter");

    private static string? OptionalString(JsonObject node, string name, string? path = null)
    {
        var value = node[name];
        return value?.GetValueKind() switch
        {
            null or JsonValueKind.Null => null,
            JsonValueKind.String => value.GetValue<string>(),
            _ => throw WrongType(Join(path, name), "a string"),
        };
    }

    private static bool? OptionalBoolean(JsonObject node, string name, string? path = null)
    {
        var value = node[name];
        return value?.GetValueKind() switch
        {
            null or JsonValueKind.Null => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(Join(path, name), "a boolean"),
        };
    }

    private static double? OptionalNumber(JsonObject node, string name, double min, double max)
    {
        var value = node[name];
        switch (value?.GetValueKind())
        {
            case null or JsonValueKind.Null:
                return null;
            case JsonValueKind.Number:
                var number = value.GetValue<double>();
                if (number < min || number > max)
                {
                    throw BatonException.InvalidRequest(
                        $"Invalid '{name}': {number.ToString(System.Globalization.CultureInfo.InvariantCulture)} is out of range; expected a value from {min} to {max}.",
                        name, "invalid_value");
                }
                return number;
            default:
                throw WrongType(name, "a number");
        }
    }

    private static int? OptionalPositiveInteger(JsonObject node, string name)
    {
        var value = node[name];
        switch (value?.GetValueKind())
        {
            case null or JsonValueKind.Null:
                return null;
            case JsonValueKind.Number when value.AsValue().TryGetValue<int>(out var number):
                if (number < 1)
                {
                    throw BatonException.InvalidRequest($"Invalid '{name}': {number} is too small; expected at least 1.", name, "invalid_value");
                }
                return number;
            default:
                throw WrongType(name, "an integer");
        }
    }

    private static string Join(string? path, string name) => path is null ? name : $"{path}.{name}";

    private static BatonException WrongType(string param, string expected) =>
        BatonException.InvalidRequest($"Invalid type for '{param}': expected {expected}.", param, "invalid_type");
}
