using System.Buffers;
using System.Text;
using System.Text.Json;
using Baton.Errors;
using Baton.Providers.OpenAi;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>What the front needs of a Messages request besides its translation.</summary>
internal sealed record AnthropicRequestInfo(string Model, bool Stream, byte[] ChatCompletionsBody);

/// <summary>
/// Checks a request of Anthropic's Messages API and writes its Chat Completions translation, the engine's canonical
/// request: the system prompt as a system message, <c>tool_result</c> blocks as tool messages, <c>tool_use</c> blocks as
/// tool calls, images as <c>image_url</c> parts, <c>input_schema</c> as function parameters, <c>tool_choice</c>
/// <c>any</c> as <c>required</c>, <c>stop_sequences</c> as <c>stop</c>, <c>metadata.user_id</c> as <c>user</c>, and a
/// thinking budget as a reasoning effort. What Chat Completions cannot say (<c>top_k</c>, <c>cache_control</c>, thinking
/// blocks, server tools) is left out of the translation; an Anthropic deployment gets the original body, with all of it.
/// Every rejection is a 400 naming the offending parameter, as Anthropic's own are.
/// </summary>
internal static class AnthropicRequestReader
{
    private static readonly HashSet<string> ImageMediaTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"];

    /// <param name="body">The client's body.</param>
    /// <param name="countOnly">For <c>count_tokens</c>: <c>max_tokens</c> and <c>stream</c> are not part of it.</param>
    public static AnthropicRequestInfo Read(ReadOnlyMemory<byte> body, bool countOnly = false)
    {
        if (body.IsEmpty)
        {
            throw Invalid("The request body is empty; expected a JSON object.", null);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException ex)
        {
            throw Invalid($"The request body is not valid JSON: {ex.Message}", null, "invalid_json");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("The request body must be a JSON object.", null, "invalid_json");
            }
            var model = RequiredString(root, "model");
            var maxTokens = countOnly ? null : (int?)RequiredPositiveInt(root, "max_tokens");
            var stream = !countOnly && OptionalBool(root, "stream");
            if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                throw Invalid("messages: Field required (an array of user and assistant messages).", "messages");
            }
            if (messages.GetArrayLength() == 0)
            {
                throw Invalid("messages: at least one message is required.", "messages");
            }

            var buffer = new ArrayBufferWriter<byte>(body.Length + 256);
            using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
            {
                writer.WriteStartObject();
                writer.WriteString("model", model);
                if (maxTokens is int max)
                {
                    writer.WriteNumber("max_tokens", max);
                }
                writer.WriteStartArray("messages");
                WriteSystem(writer, root);
                var index = 0;
                foreach (var message in messages.EnumerateArray())
                {
                    WriteMessage(writer, message, $"messages.{index}");
                    index++;
                }
                writer.WriteEndArray();
                WriteTools(writer, root);
                WriteSampling(writer, root, maxTokens);
                if (stream)
                {
                    writer.WriteBoolean("stream", true);
                    // The front needs the usage to report it in message_delta.
                    writer.WriteStartObject("stream_options");
                    writer.WriteBoolean("include_usage", true);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            return new AnthropicRequestInfo(model, stream, buffer.WrittenSpan.ToArray());
        }
    }

    private static void WriteSystem(Utf8JsonWriter writer, JsonElement root)
    {
        if (!root.TryGetProperty("system", out var system) || system.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        string text;
        if (system.ValueKind == JsonValueKind.String)
        {
            text = system.GetString()!;
        }
        else if (system.ValueKind == JsonValueKind.Array)
        {
            var parts = new List<string>();
            var i = 0;
            foreach (var block in system.EnumerateArray())
            {
                if (BlockType(block, $"system.{i}") != "text")
                {
                    throw Invalid($"system.{i}.type: the system prompt takes text blocks only.", $"system.{i}.type");
                }
                parts.Add(RequiredString(block, "text", $"system.{i}.text", allowEmpty: true));
                i++;
            }
            text = string.Join("\n\n", parts);
        }
        else
        {
            throw Invalid("system: Input should be a string or a list of text blocks.", "system");
        }
        if (text.Length > 0)
        {
            writer.WriteStartObject();
            writer.WriteString("role", "system");
            writer.WriteString("content", text);
            writer.WriteEndObject();
        }
    }

    private static void WriteMessage(Utf8JsonWriter writer, JsonElement message, string path)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{path}: Input should be an object with a role and content.", path);
        }
        var role = RequiredString(message, "role", $"{path}.role");
        if (role is not ("user" or "assistant" or "system"))
        {
            throw Invalid($"{path}.role: Input should be 'user', 'assistant' or 'system'.", $"{path}.role");
        }
        if (!message.TryGetProperty("content", out var content))
        {
            throw Invalid($"{path}.content: Field required.", $"{path}.content");
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartObject();
            writer.WriteString("role", role);
            writer.WriteString("content", content.GetString());
            writer.WriteEndObject();
            return;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"{path}.content: Input should be a string or a list of content blocks.", $"{path}.content");
        }
        if (role == "assistant")
        {
            WriteAssistant(writer, content, path);
        }
        else if (role == "system")
        {
            WriteSystemMessage(writer, content, path);
        }
        else
        {
            WriteUser(writer, content, path);
        }
    }

    /// <summary>Tool results become tool messages, which come first (right after the assistant's calls); the rest one user message.</summary>
    private static void WriteUser(Utf8JsonWriter writer, JsonElement content, string path)
    {
        var parts = new List<(string Type, string Value)>();
        var i = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = $"{path}.content.{i}";
            switch (BlockType(block, at))
            {
                case "text":
                    parts.Add(("text", RequiredString(block, "text", $"{at}.text", allowEmpty: true)));
                    break;
                case "image":
                    parts.Add(("image", ImageUrl(block, at)));
                    break;
                case "tool_result":
                    writer.WriteStartObject();
                    writer.WriteString("role", "tool");
                    writer.WriteString("tool_call_id", RequiredString(block, "tool_use_id", $"{at}.tool_use_id"));
                    var result = ToolResultText(block, at);
                    // Chat Completions has no error flag on a tool message: the text says it.
                    writer.WriteString("content", OptionalBool(block, "is_error", $"{at}.is_error") ? "Error: " + result : result);
                    writer.WriteEndObject();
                    break;
                case "tool_use" or "thinking" or "redacted_thinking":
                    throw Invalid($"{at}.type: a '{block.GetProperty("type").GetString()}' block belongs to an assistant message.", $"{at}.type");
                default:
                    // Documents, search results and other blocks Chat Completions cannot carry: an Anthropic deployment reads them.
                    break;
            }
            i++;
        }
        if (parts.Count == 0)
        {
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("role", "user");
        writer.WriteStartArray("content");
        foreach (var (type, value) in parts)
        {
            writer.WriteStartObject();
            if (type == "text")
            {
                writer.WriteString("type", "text");
                writer.WriteString("text", value);
            }
            else
            {
                writer.WriteString("type", "image_url");
                writer.WriteStartObject("image_url");
                writer.WriteString("url", value);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>A system message among the turns (newer clients send instructions mid-conversation so): its text blocks.</summary>
    private static void WriteSystemMessage(Utf8JsonWriter writer, JsonElement content, string path)
    {
        var text = new StringBuilder();
        var i = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = $"{path}.content.{i}";
            if (BlockType(block, at) != "text")
            {
                throw Invalid($"{at}.type: a system message takes text blocks only.", $"{at}.type");
            }
            text.Append(RequiredString(block, "text", $"{at}.text", allowEmpty: true));
            i++;
        }
        writer.WriteStartObject();
        writer.WriteString("role", "system");
        writer.WriteString("content", text.ToString());
        writer.WriteEndObject();
    }

    private static void WriteAssistant(Utf8JsonWriter writer, JsonElement content, string path)
    {
        var text = new StringBuilder();
        var calls = new List<(string Id, string Name, string Arguments)>();
        var i = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = $"{path}.content.{i}";
            switch (BlockType(block, at))
            {
                case "text":
                    text.Append(RequiredString(block, "text", $"{at}.text", allowEmpty: true));
                    break;
                case "tool_use":
                    var id = RequiredString(block, "id", $"{at}.id");
                    var name = RequiredString(block, "name", $"{at}.name");
                    if (!block.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Object)
                    {
                        throw Invalid($"{at}.input: Input should be an object.", $"{at}.input");
                    }
                    calls.Add((id, name, input.GetRawText()));
                    break;
                case "thinking":
                    RequiredString(block, "thinking", $"{at}.thinking", allowEmpty: true);
                    break;
                case "image" or "tool_result":
                    throw Invalid($"{at}.type: a '{block.GetProperty("type").GetString()}' block belongs to a user message.", $"{at}.type");
                default:
                    // redacted_thinking and server tool blocks: only their own provider can read them.
                    break;
            }
            i++;
        }
        if (text.Length == 0 && calls.Count == 0)
        {
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("role", "assistant");
        if (text.Length == 0)
        {
            writer.WriteNull("content");
        }
        else
        {
            writer.WriteString("content", text.ToString());
        }
        if (calls.Count > 0)
        {
            writer.WriteStartArray("tool_calls");
            foreach (var (id, name, arguments) in calls)
            {
                writer.WriteStartObject();
                writer.WriteString("id", id);
                writer.WriteString("type", "function");
                writer.WriteStartObject("function");
                writer.WriteString("name", name);
                writer.WriteString("arguments", arguments);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    private static string ImageUrl(JsonElement block, string at)
    {
        if (!block.TryGetProperty("source", out var source) || source.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{at}.source: Field required.", $"{at}.source");
        }
        switch (RequiredString(source, "type", $"{at}.source.type"))
        {
            case "base64":
                var mediaType = RequiredString(source, "media_type", $"{at}.source.media_type");
                if (!ImageMediaTypes.Contains(mediaType))
                {
                    throw Invalid($"{at}.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'.", $"{at}.source.media_type");
                }
                return $"data:{mediaType};base64,{RequiredString(source, "data", $"{at}.source.data")}";
            case "url":
                var url = RequiredString(source, "url", $"{at}.source.url");
                if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
                {
                    throw Invalid($"{at}.source.url: an absolute http or https URL is required.", $"{at}.source.url");
                }
                return url;
            default:
                throw Invalid($"{at}.source.type: Input should be 'base64' or 'url'.", $"{at}.source.type");
        }
    }

    /// <summary>A tool result's content: a string, or blocks whose text is joined (images in results are for Anthropic only).</summary>
    private static string ToolResultText(JsonElement block, string at)
    {
        if (!block.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return "";
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"{at}.content: Input should be a string or a list of content blocks.", $"{at}.content");
        }
        var text = new StringBuilder();
        var i = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (BlockType(part, $"{at}.content.{i}") == "text")
            {
                text.Append(RequiredString(part, "text", $"{at}.content.{i}.text", allowEmpty: true));
            }
            i++;
        }
        return text.ToString();
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement root)
    {
        var functions = 0;
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind != JsonValueKind.Null)
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                throw Invalid("tools: Input should be a list of tools.", "tools");
            }
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var at = $"tools.{i}";
                if (tool.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid($"{at}: Input should be an object.", at);
                }
                var name = RequiredString(tool, "name", $"{at}.name");
                var type = tool.TryGetProperty("type", out var typeValue) && typeValue.ValueKind == JsonValueKind.String ? typeValue.GetString() : null;
                if (type is not (null or "custom"))
                {
                    // A server tool (web search, code execution, ...): it runs at Anthropic, and only there.
                    i++;
                    continue;
                }
                if (!tool.TryGetProperty("input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid($"{at}.input_schema: Field required (a JSON Schema object).", $"{at}.input_schema");
                }
                if (functions == 0)
                {
                    writer.WriteStartArray("tools");
                }
                writer.WriteStartObject();
                writer.WriteString("type", "function");
                writer.WriteStartObject("function");
                writer.WriteString("name", name);
                if (tool.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
                {
                    writer.WriteString("description", description.GetString());
                }
                writer.WritePropertyName("parameters");
                schema.WriteTo(writer);
                writer.WriteEndObject();
                writer.WriteEndObject();
                functions++;
                i++;
            }
            if (functions > 0)
            {
                writer.WriteEndArray();
            }
        }
        WriteToolChoice(writer, root, functions > 0);
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, JsonElement root, bool hasTools)
    {
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (choice.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("tool_choice: Input should be an object with a type.", "tool_choice");
        }
        var type = RequiredString(choice, "type", "tool_choice.type");
        var disableParallel = OptionalBool(choice, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use");
        switch (type)
        {
            case "auto" or "any" or "none":
                break;
            case "tool":
                RequiredString(choice, "name", "tool_choice.name");
                break;
            default:
                throw Invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'.", "tool_choice.type");
        }
        if (!hasTools)
        {
            // Chat Completions refuses a tool choice without tools; without tools there is nothing to choose.
            return;
        }
        switch (type)
        {
            case "auto":
                writer.WriteString("tool_choice", "auto");
                break;
            case "any":
                writer.WriteString("tool_choice", "required");
                break;
            case "none":
                writer.WriteString("tool_choice", "none");
                break;
            default:
                writer.WriteStartObject("tool_choice");
                writer.WriteString("type", "function");
                writer.WriteStartObject("function");
                writer.WriteString("name", choice.GetProperty("name").GetString());
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
        }
        if (disableParallel && type != "none")
        {
            writer.WriteBoolean("parallel_tool_calls", false);
        }
    }

    private static void WriteSampling(Utf8JsonWriter writer, JsonElement root, int? maxTokens)
    {
        if (OptionalNumber(root, "temperature") is double temperature)
        {
            if (temperature is < 0 or > 1)
            {
                throw Invalid("temperature: Input should be between 0 and 1.", "temperature");
            }
            writer.WriteNumber("temperature", temperature);
        }
        if (OptionalNumber(root, "top_p") is double topP)
        {
            if (topP is < 0 or > 1)
            {
                throw Invalid("top_p: Input should be between 0 and 1.", "top_p");
            }
            writer.WriteNumber("top_p", topP);
        }
        if (root.TryGetProperty("top_k", out var topK) && topK.ValueKind != JsonValueKind.Null && (!topK.TryGetInt32(out var k) || k < 0))
        {
            throw Invalid("top_k: Input should be a non-negative integer.", "top_k");
        }
        if (root.TryGetProperty("stop_sequences", out var stops) && stops.ValueKind != JsonValueKind.Null)
        {
            if (stops.ValueKind != JsonValueKind.Array || stops.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String))
            {
                throw Invalid("stop_sequences: Input should be a list of strings.", "stop_sequences");
            }
            if (stops.GetArrayLength() > 0)
            {
                writer.WriteStartArray("stop");
                foreach (var stop in stops.EnumerateArray())
                {
                    writer.WriteStringValue(stop.GetString());
                }
                writer.WriteEndArray();
            }
        }
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != JsonValueKind.Null)
        {
            if (metadata.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("metadata: Input should be an object.", "metadata");
            }
            if (metadata.TryGetProperty("user_id", out var user) && user.ValueKind != JsonValueKind.Null)
            {
                if (user.ValueKind != JsonValueKind.String)
                {
                    throw Invalid("metadata.user_id: Input should be a string.", "metadata.user_id");
                }
                if (user.GetString() is { Length: > 0 } id)
                {
                    writer.WriteString("user", id);
                }
            }
        }
        if (ReasoningEffort(root, maxTokens) is { } effort)
        {
            writer.WriteString("reasoning_effort", effort);
        }
    }

    /// <summary>A thinking budget as OpenAI's effort levels, the inverse of the Anthropic adapter's mapping.</summary>
    private static string? ReasoningEffort(JsonElement root, int? maxTokens)
    {
        if (!root.TryGetProperty("thinking", out var thinking) || thinking.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (thinking.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("thinking: Input should be an object with a type.", "thinking");
        }
        switch (RequiredString(thinking, "type", "thinking.type"))
        {
            case "disabled":
                return null;
            case "adaptive":
                return "medium";
            case "enabled":
                var budget = RequiredPositiveInt(thinking, "budget_tokens", "thinking.budget_tokens");
                if (budget < Baton.Providers.Anthropic.AnthropicRequestTranslator.MinThinkingBudget)
                {
                    throw Invalid($"thinking.budget_tokens: Input should be greater than or equal to {Baton.Providers.Anthropic.AnthropicRequestTranslator.MinThinkingBudget}.", "thinking.budget_tokens");
                }
                if (maxTokens is int max && budget >= max)
                {
                    throw Invalid("max_tokens must be greater than thinking.budget_tokens.", "thinking.budget_tokens");
                }
                return budget <= 2048 ? "low" : budget <= 8192 ? "medium" : "high";
            default:
                throw Invalid("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'.", "thinking.type");
        }
    }

    private static string BlockType(JsonElement block, string at)
    {
        if (block.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{at}: Input should be a content block object.", at);
        }
        return RequiredString(block, "type", $"{at}.type");
    }

    private static string RequiredString(JsonElement element, string name, string? path = null, bool allowEmpty = false)
    {
        path ??= name;
        if (!element.TryGetProperty(name, out var value))
        {
            throw Invalid($"{path}: Field required.", path);
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw Invalid($"{path}: Input should be a valid string.", path);
        }
        var text = value.GetString()!;
        if (!allowEmpty && text.Length == 0)
        {
            throw Invalid($"{path}: String should have at least 1 character.", path);
        }
        return text;
    }

    private static int RequiredPositiveInt(JsonElement element, string name, string? path = null)
    {
        path ??= name;
        if (!element.TryGetProperty(name, out var value))
        {
            throw Invalid($"{path}: Field required.", path);
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < 1)
        {
            throw Invalid($"{path}: Input should be an integer of at least 1.", path);
        }
        return number;
    }

    private static bool OptionalBool(JsonElement element, string name, string? path = null)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid($"{path ?? name}: Input should be a valid boolean.", path ?? name),
        };
    }

    private static double? OptionalNumber(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : throw Invalid($"{name}: Input should be a valid number.", name);
    }

    private static BatonException Invalid(string message, string? param, string code = "invalid_request") =>
        BatonException.InvalidRequest(message, param, code);
}
