using System.Buffers;
using System.Text.Json;
using Baton.Errors;
using Baton.Providers.OpenAi;
using Baton.Providers.Translation;

namespace Baton.Providers.Ollama;

/// <summary>
/// Writes the body of Ollama's native <c>POST /api/chat</c> from a client's Chat Completions request.
/// Where the formats differ: tool-call arguments are JSON objects rather than JSON text, a tool result names
/// its tool (<c>tool_name</c>) rather than the call id, images are bare base64 on the message, and the
/// sampling parameters go in <c>options</c> (<c>max_tokens</c> becomes <c>num_predict</c>).
/// </summary>
public static class OllamaRequestTranslator
{
    /// <exception cref="BatonException">The request holds something Ollama cannot be given (400).</exception>
    public static byte[] Translate(OpenAiChatBody body, string model, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            WriteMessages(writer, body);
            WriteTools(writer, body);
            WriteOptions(writer, body);
            WriteFormat(writer, body);
            WriteThink(writer, body.ReasoningEffort);
            // Ollama streams unless told otherwise, so the choice is always stated.
            writer.WriteBoolean("stream", stream);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMessages(Utf8JsonWriter writer, OpenAiChatBody body)
    {
        writer.WriteStartArray("messages");
        foreach (var prompt in body.SystemPrompts)
        {
            writer.WriteStartObject();
            writer.WriteString("role", "system");
            writer.WriteString("content", prompt);
            writer.WriteEndObject();
        }
        // Ollama has no call ids: a tool result names the function, found from the call it answers.
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var turn in body.Turns)
        {
            foreach (var call in turn.ToolCalls)
            {
                toolNames[call.Id] = call.Name;
            }
            WriteTurn(writer, turn, toolNames);
        }
        writer.WriteEndArray();
    }

    private static void WriteTurn(Utf8JsonWriter writer, ChatTurn turn, Dictionary<string, string> toolNames)
    {
        writer.WriteStartObject();
        writer.WriteString("role", turn.Role);
        if (turn.Role == "tool")
        {
            var name = turn.ToolCallId is { } id && toolNames.TryGetValue(id, out var known) ? known : turn.Name;
            if (name is not null)
            {
                writer.WriteString("tool_name", name);
            }
        }
        var text = turn.Text;
        // An assistant turn that only calls tools has no content, as in Ollama's own examples.
        if (text.Length > 0 || turn.ToolCalls.Count == 0)
        {
            writer.WriteString("content", text);
        }
        WriteImages(writer, turn);
        if (turn.ToolCalls.Count > 0)
        {
            writer.WriteStartArray("tool_calls");
            for (var i = 0; i < turn.ToolCalls.Count; i++)
            {
                var call = turn.ToolCalls[i];
                writer.WriteStartObject();
                writer.WriteString("type", "function");
                writer.WriteStartObject("function");
                writer.WriteNumber("index", i);
                writer.WriteString("name", call.Name);
                writer.WritePropertyName("arguments");
                writer.WriteRawValue(ArgumentsObject(call));
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    private static void WriteImages(Utf8JsonWriter writer, ChatTurn turn)
    {
        var images = turn.Parts.Where(p => p.ImageUrl is not null).ToList();
        if (images.Count == 0)
        {
            return;
        }
        writer.WriteStartArray("images");
        foreach (var image in images)
        {
            // Ollama does not fetch URLs; only inline (data:) images can be sent.
            if (!image.TryGetInlineImage(out _, out var base64))
            {
                throw Unsupported("Ollama accepts images only as base64 data: URLs, not remote URLs.", "messages");
            }
            writer.WriteStringValue(base64);
        }
        writer.WriteEndArray();
    }

    /// <summary>OpenAI carries arguments as JSON text; Ollama wants the object itself.</summary>
    private static string ArgumentsObject(ChatToolCall call)
    {
        try
        {
            using var document = JsonDocument.Parse(call.ArgumentsJson);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return call.ArgumentsJson;
            }
        }
        catch (JsonException)
        {
            // Reported below.
        }
        throw Unsupported($"The arguments of tool call '{call.Id}' are not a JSON object, which Ollama requires.", "messages");
    }

    private static void WriteTools(Utf8JsonWriter writer, OpenAiChatBody body)
    {
        // Ollama has no tool_choice: "none" is honoured by offering no tools, a forced function by offering
        // only that one. "required" cannot be enforced; the model may still answer in text.
        if (body.Tools.Count == 0 || body.ToolChoice == "none")
        {
            return;
        }
        var tools = body.ForcedTool is { } forced ? body.Tools.Where(t => t.Name == forced) : body.Tools;
        writer.WriteStartArray("tools");
        foreach (var tool in tools)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", tool.Name);
            if (tool.Description is not null)
            {
                writer.WriteString("description", tool.Description);
            }
            if (tool.ParametersJson is not null)
            {
                writer.WritePropertyName("parameters");
                writer.WriteRawValue(tool.ParametersJson);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void WriteOptions(Utf8JsonWriter writer, OpenAiChatBody body)
    {
        if (!SamplingWriter.HasAny(body))
        {
            return;
        }
        writer.WriteStartObject("options");
        SamplingWriter.Write(writer, body, topP: "top_p", maxTokens: "num_predict", stop: "stop");
        writer.WriteEndObject();
    }

    private static void WriteFormat(Utf8JsonWriter writer, OpenAiChatBody body)
    {
        if (body.ResponseFormat == "json_schema" && body.ResponseSchemaJson is { } schema)
        {
            writer.WritePropertyName("format");
            writer.WriteRawValue(schema);
        }
        else if (body.ResponseFormat is "json_object" or "json_schema")
        {
            writer.WriteString("format", "json");
        }
    }

    /// <summary>
    /// Ollama's <c>think</c> takes a level (<c>low</c>, <c>medium</c>, <c>high</c>) or a boolean. OpenAI's
    /// <c>none</c> turns thinking off; <c>minimal</c> is the lowest level Ollama has.
    /// </summary>
    private static void WriteThink(Utf8JsonWriter writer, string? effort)
    {
        switch (effort)
        {
            case null:
                return;
            case "none":
                writer.WriteBoolean("think", false);
                return;
            case "minimal":
                writer.WriteString("think", "low");
                return;
            case "low" or "medium" or "high":
                writer.WriteString("think", effort);
                return;
            default:
                writer.WriteBoolean("think", true);
                return;
        }
    }

    private static BatonException Unsupported(string message, string param) =>
        new(400, ErrorTypes.InvalidRequest, message, param: param, code: "unsupported_for_provider");
}
