using System.Text;
using System.Text.Json;
using Baton.Configuration;

namespace Baton.Providers.Translation;

/// <summary>
/// The client's Chat Completions request read into a small object model, for the providers that must
/// translate it into another wire format (Anthropic, Gemini, Ollama). OpenAI-compatible providers never
/// build this: they forward the body as it is. Parameters absent from the body take the deployment's
/// defaults, so every translator applies them the same way.
/// </summary>
public sealed class OpenAiChatBody
{
    /// <summary>System and developer messages, in order; most providers take them apart from the turns.</summary>
    public List<string> SystemPrompts { get; } = [];

    /// <summary>The conversation without system and developer messages.</summary>
    public List<ChatTurn> Turns { get; } = [];

    public List<ChatTool> Tools { get; } = [];

    /// <summary><c>auto</c>, <c>none</c>, <c>required</c>, or null when the client did not say.</summary>
    public string? ToolChoice { get; private set; }

    /// <summary>The function the client forced with <c>tool_choice: {"type":"function",...}</c>.</summary>
    public string? ForcedTool { get; private set; }

    public bool? ParallelToolCalls { get; private set; }

    public double? Temperature { get; private set; }

    public double? TopP { get; private set; }

    /// <summary><c>max_completion_tokens</c>, else <c>max_tokens</c>, else the configured default.</summary>
    public int? MaxTokens { get; private set; }

    public List<string> Stop { get; } = [];

    public long? Seed { get; private set; }

    /// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c>; null when absent.</summary>
    public string? ResponseFormat { get; private set; }

    /// <summary>The JSON Schema of a <c>json_schema</c> response format, as JSON text.</summary>
    public string? ResponseSchemaJson { get; private set; }

    /// <summary><c>low</c>, <c>medium</c> or <c>high</c> (OpenAI's <c>reasoning_effort</c>).</summary>
    public string? ReasoningEffort { get; private set; }

    public string? User { get; private set; }

    public static OpenAiChatBody Read(ReadOnlySpan<byte> json, RequestDefaults defaults)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var body = new OpenAiChatBody();
        if (root.TryGetProperty("messages", out var messages))
        {
            foreach (var message in messages.EnumerateArray())
            {
                body.ReadMessage(message);
            }
        }
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (tool.TryGetProperty("function", out var function))
                {
                    body.Tools.Add(new ChatTool(
                        function.GetProperty("name").GetString()!,
                        OptionalString(function, "description"),
                        function.TryGetProperty("parameters", out var parameters) ? parameters.GetRawText() : null));
                }
            }
        }
        if (root.TryGetProperty("tool_choice", out var choice))
        {
            if (choice.ValueKind == JsonValueKind.String)
            {
                body.ToolChoice = choice.GetString();
            }
            else if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var forced))
            {
                body.ToolChoice = "function";
                body.ForcedTool = OptionalString(forced, "name");
            }
        }
        if (root.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            body.ParallelToolCalls = parallel.GetBoolean();
        }
        body.Temperature = OptionalDouble(root, "temperature") ?? defaults.Temperature;
        body.TopP = OptionalDouble(root, "top_p") ?? defaults.TopP;
        body.MaxTokens = OptionalInt(root, "max_completion_tokens") ?? OptionalInt(root, "max_tokens") ?? defaults.MaxTokens;
        if (root.TryGetProperty("stop", out var stop))
        {
            if (stop.ValueKind == JsonValueKind.String)
            {
                body.Stop.Add(stop.GetString()!);
            }
            else if (stop.ValueKind == JsonValueKind.Array)
            {
                body.Stop.AddRange(stop.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.String).Select(s => s.GetString()!));
            }
        }
        if (root.TryGetProperty("seed", out var seed) && seed.ValueKind == JsonValueKind.Number)
        {
            body.Seed = seed.GetInt64();
        }
        if (root.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object)
        {
            body.ResponseFormat = OptionalString(format, "type");
            if (format.TryGetProperty("json_schema", out var schema) && schema.TryGetProperty("schema", out var inner))
            {
                body.ResponseSchemaJson = inner.GetRawText();
            }
        }
        body.ReasoningEffort = OptionalString(root, "reasoning_effort");
        body.User = OptionalString(root, "user");
        return body;
    }

    private void ReadMessage(JsonElement message)
    {
        var role = message.GetProperty("role").GetString()!;
        if (role is "system" or "developer")
        {
            SystemPrompts.Add(SystemText(message));
            return;
        }
        var turn = new ChatTurn(role) { ToolCallId = OptionalString(message, "tool_call_id"), Name = OptionalString(message, "name") };
        ReadContent(message, turn.Parts);
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                var function = call.GetProperty("function");
                turn.ToolCalls.Add(new ChatToolCall(
                    OptionalString(call, "id") ?? "",
                    function.GetProperty("name").GetString()!,
                    OptionalString(function, "arguments") is { Length: > 0 } arguments ? arguments : "{}"));
            }
        }
        Turns.Add(turn);
    }

    /// <summary>A system message's text: its content, or its text parts joined.</summary>
    private static string SystemText(JsonElement message)
    {
        if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }
        var parts = new List<ChatPart>();
        ReadContent(message, parts);
        return parts.Count == 1 ? parts[0].Text ?? "" : string.Concat(parts.Select(p => p.Text));
    }

    /// <summary>The message's content parts, added to <paramref name="parts"/>.</summary>
    private static void ReadContent(JsonElement message, List<ChatPart> parts)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            parts.Add(ChatPart.FromText(content.GetString()!));
            return;
        }
        foreach (var part in content.EnumerateArray())
        {
            switch (OptionalString(part, "type"))
            {
                case "text":
                    parts.Add(ChatPart.FromText(OptionalString(part, "text") ?? ""));
                    break;
                case "image_url" when part.TryGetProperty("image_url", out var image):
                    parts.Add(ChatPart.FromImage(OptionalString(image, "url") ?? ""));
                    break;
            }
        }
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? OptionalDouble(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static int? OptionalInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;
}

/// <summary>One non-system message: <c>user</c>, <c>assistant</c> or <c>tool</c>.</summary>
public sealed class ChatTurn(string role)
{
    public string Role { get; } = role;

    public List<ChatPart> Parts { get; } = [];

    /// <summary>The calls an assistant message made.</summary>
    public List<ChatToolCall> ToolCalls { get; } = [];

    /// <summary>For a <c>tool</c> message: the call it answers.</summary>
    public string? ToolCallId { get; init; }

    public string? Name { get; init; }

    /// <summary>Whether the turn has anything to send: a tool result, calls, or a part with text or an image.</summary>
    public bool HasContent
    {
        get
        {
            if (Role == "tool" || ToolCalls.Count > 0)
            {
                return true;
            }
            foreach (var part in Parts)
            {
                if (!string.IsNullOrEmpty(part.Text) || part.ImageUrl is not null)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>All text parts joined.</summary>
    public string Text
    {
        get
        {
            var text = new StringBuilder();
            foreach (var part in Parts)
            {
                text.Append(part.Text);
            }
            return text.ToString();
        }
    }
}

/// <summary>A content part: text, or an image given by URL (a <c>data:</c> URL for inline images).</summary>
public sealed record ChatPart(string? Text, string? ImageUrl)
{
    public static ChatPart FromText(string text) => new(text, null);

    public static ChatPart FromImage(string url) => new(null, url);

    /// <summary>Splits a <c>data:</c> URL into media type and base64 data; false for a remote URL.</summary>
    public bool TryGetInlineImage(out string mediaType, out string base64)
    {
        mediaType = base64 = "";
        if (ImageUrl is not { } url || !url.StartsWith("data:", StringComparison.Ordinal))
        {
            return false;
        }
        var comma = url.IndexOf(',', StringComparison.Ordinal);
        var header = comma > 5 ? url[5..comma] : "";
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.Ordinal))
        {
            return false;
        }
        mediaType = header[..^";base64".Length];
        base64 = url[(comma + 1)..];
        return true;
    }
}

/// <summary>A tool the client offers: name, description and JSON Schema parameters (JSON text).</summary>
public sealed record ChatTool(string Name, string? Description, string? ParametersJson);

/// <summary>A call an assistant made: id, function name and arguments as JSON text.</summary>
public sealed record ChatToolCall(string Id, string Name, string ArgumentsJson);
