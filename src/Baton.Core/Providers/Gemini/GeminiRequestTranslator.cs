using System.Buffers;
using System.Text.Json;
using Baton.Providers.OpenAi;
using Baton.Providers.Translation;

namespace Baton.Providers.Gemini;

/// <summary>
/// Writes a Gemini <c>GenerateContentRequest</c> from the client's Chat Completions request: system prompts
/// become <c>systemInstruction</c>, turns become <c>contents</c> with roles <c>user</c> and <c>model</c>
/// (Gemini has no others, so tool results travel in a user turn), tools become one <c>functionDeclarations</c> entry.
/// </summary>
public static class GeminiRequestTranslator
{
    public static byte[] Translate(OpenAiChatBody body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            writer.WriteStartObject();
            WriteSystemInstruction(writer, body.SystemPrompts);
            WriteContents(writer, body.Turns);
            WriteTools(writer, body);
            WriteGenerationConfig(writer, body);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteSystemInstruction(Utf8JsonWriter writer, List<string> prompts)
    {
        if (prompts.Count == 0)
        {
            return;
        }
        writer.WriteStartObject("systemInstruction");
        writer.WriteStartArray("parts");
        foreach (var prompt in prompts)
        {
            writer.WriteStartObject();
            writer.WriteString("text", prompt);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteContents(Utf8JsonWriter writer, List<ChatTurn> turns)
    {
        // A tool message names only the call it answers; Gemini wants the function's name, kept from the call.
        Dictionary<string, string>? callNames = null;
        foreach (var turn in turns)
        {
            if (turn.ToolCalls.Count > 0)
            {
                callNames = new Dictionary<string, string>(StringComparer.Ordinal);
                break;
            }
        }
        AlternatingTurns.Write(writer, "contents", "parts", turns, "model", WriteParts, callNames);
    }

    private static void WriteParts(Utf8JsonWriter writer, ChatTurn turn, Dictionary<string, string>? callNames)
    {
        if (turn.Role == "tool")
        {
            var callId = turn.ToolCallId ?? "";
            WriteFunctionResponse(writer, callId, callNames?.GetValueOrDefault(callId) ?? turn.Name ?? "", turn.Text);
            return;
        }
        foreach (var part in turn.Parts)
        {
            if (part.Text is { Length: > 0 } text)
            {
                WriteText(writer, text);
            }
            else if (part.ImageUrl is not null)
            {
                WriteImage(writer, part);
            }
        }
        foreach (var call in turn.ToolCalls)
        {
            callNames![call.Id] = call.Name;
            WriteFunctionCall(writer, call);
        }
    }

    private static void WriteText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("text", text);
        writer.WriteEndObject();
    }

    private static void WriteImage(Utf8JsonWriter writer, ChatPart part)
    {
        writer.WriteStartObject();
        if (part.TryGetInlineImage(out var mediaType, out var data))
        {
            writer.WriteStartObject("inlineData");
            writer.WriteString("mimeType", mediaType);
            writer.WriteString("data", data);
        }
        else
        {
            writer.WriteStartObject("fileData");
            writer.WriteString("fileUri", part.ImageUrl);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteFunctionCall(Utf8JsonWriter writer, ChatToolCall call)
    {
        var (id, signature) = GeminiToolCallIds.Split(call.Id);
        writer.WriteStartObject();
        writer.WriteStartObject("functionCall");
        writer.WriteString("name", call.Name);
        writer.WritePropertyName("args");
        WriteJsonObject(writer, call.ArgumentsJson, wrapAs: "arguments");
        if (id is not null)
        {
            writer.WriteString("id", id);
        }
        writer.WriteEndObject();
        if (signature is not null)
        {
            writer.WriteString("thoughtSignature", signature);
        }
        writer.WriteEndObject();
    }

    private static void WriteFunctionResponse(Utf8JsonWriter writer, string callId, string name, string result)
    {
        var (id, _) = GeminiToolCallIds.Split(callId);
        writer.WriteStartObject();
        writer.WriteStartObject("functionResponse");
        writer.WriteString("name", name);
        if (id is not null)
        {
            writer.WriteString("id", id);
        }
        writer.WritePropertyName("response");
        WriteJsonObject(writer, result, wrapAs: "result");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// Gemini takes call arguments and results as JSON objects where OpenAI has strings: an object is
    /// passed as it is, anything else (other JSON, plain text) is wrapped as <c>{"result": ...}</c>.
    /// </summary>
    private static void WriteJsonObject(Utf8JsonWriter writer, string text, string wrapAs)
    {
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            // Plain text: wrapped below as a string.
        }
        using (document)
        {
            if (document?.RootElement.ValueKind == JsonValueKind.Object)
            {
                document.RootElement.WriteTo(writer);
                return;
            }
            writer.WriteStartObject();
            writer.WritePropertyName(wrapAs);
            if (document is null) writer.WriteStringValue(text); else document.RootElement.WriteTo(writer);
            writer.WriteEndObject();
        }
    }

    private static void WriteTools(Utf8JsonWriter writer, OpenAiChatBody body)
    {
        if (body.Tools.Count > 0)
        {
            writer.WriteStartArray("tools");
            writer.WriteStartObject();
            writer.WriteStartArray("functionDeclarations");
            foreach (var tool in body.Tools)
            {
                writer.WriteStartObject();
                writer.WriteString("name", tool.Name);
                if (tool.Description is not null)
                {
                    writer.WriteString("description", tool.Description);
                }
                if (tool.ParametersJson is not null)
                {
                    using var schema = JsonDocument.Parse(tool.ParametersJson);
                    writer.WritePropertyName("parameters");
                    GeminiSchema.Write(writer, schema.RootElement);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
        }

        var mode = body.ToolChoice switch
        {
            "auto" => "AUTO",
            "none" => "NONE",
            "required" or "function" => "ANY",
            _ => null,
        };
        if (mode is null)
        {
            return;
        }
        writer.WriteStartObject("toolConfig");
        writer.WriteStartObject("functionCallingConfig");
        writer.WriteString("mode", mode);
        if (body.ToolChoice == "function" && body.ForcedTool is not null)
        {
            writer.WriteStartArray("allowedFunctionNames");
            writer.WriteStringValue(body.ForcedTool);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteGenerationConfig(Utf8JsonWriter writer, OpenAiChatBody body)
    {
        var thinkingBudget = ThinkingBudget(body.ReasoningEffort);
        var json = body.ResponseFormat is "json_object" or "json_schema";
        if (!SamplingWriter.HasAny(body) && !json && thinkingBudget is null)
        {
            return;
        }
        writer.WriteStartObject("generationConfig");
        SamplingWriter.Write(writer, body, topP: "topP", maxTokens: "maxOutputTokens", stop: "stopSequences");
        if (json)
        {
            writer.WriteString("responseMimeType", "application/json");
            if (body.ResponseFormat == "json_schema" && body.ResponseSchemaJson is not null)
            {
                // responseJsonSchema takes JSON Schema as it is, where responseSchema takes only an OpenAPI subset.
                using var schema = JsonDocument.Parse(body.ResponseSchemaJson);
                writer.WritePropertyName("responseJsonSchema");
                schema.RootElement.WriteTo(writer);
            }
        }
        if (thinkingBudget is int budget)
        {
            writer.WriteStartObject("thinkingConfig");
            writer.WriteNumber("thinkingBudget", budget);
            // The thought summaries come back as reasoning_content.
            writer.WriteBoolean("includeThoughts", budget > 0);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    /// <summary>OpenAI's effort levels as Gemini thinking budgets (tokens); 0 turns thinking off where the model allows.</summary>
    private static int? ThinkingBudget(string? effort) => effort switch
    {
        "none" or "minimal" => 0,
        "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ => null,
    };
}
