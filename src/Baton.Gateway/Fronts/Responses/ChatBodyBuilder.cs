using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// Writes the Chat Completions body a Responses request becomes, so that it enters the one engine exactly as a chat
/// request does: <c>instructions</c> as the first system message, message items as messages, consecutive
/// <c>function_call</c> items as one assistant message's <c>tool_calls</c>, <c>function_call_output</c> items as tool
/// messages, function tools and <c>text.format</c> in their chat form. A streamed request asks for the usage chunk, which
/// the response's <c>usage</c> needs.
/// </summary>
internal static class ChatBodyBuilder
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="request">The Responses request.</param>
    /// <param name="items">Every input item the model sees, the conversation's earlier ones first.</param>
    public static byte[] Build(ResponsesRequest request, IReadOnlyList<JsonNode?> items)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model", request.Model);
            writer.WriteStartArray("messages");
            if (request.Instructions is { } instructions)
            {
                writer.WriteStartObject();
                writer.WriteString("role", "system");
                writer.WriteString("content", instructions);
                writer.WriteEndObject();
            }
            WriteMessages(writer, items);
            writer.WriteEndArray();
            if (request.Stream)
            {
                writer.WriteBoolean("stream", true);
                writer.WriteStartObject("stream_options");
                writer.WriteBoolean("include_usage", true);
                writer.WriteEndObject();
            }
            if (request.Temperature is { } temperature)
            {
                writer.WriteNumber("temperature", temperature);
            }
            if (request.TopP is { } topP)
            {
                writer.WriteNumber("top_p", topP);
            }
            if (request.MaxOutputTokens is { } maxTokens)
            {
                writer.WriteNumber("max_completion_tokens", maxTokens);
            }
            if (request.Tools.Count > 0)
            {
                WriteTools(writer, request.Tools);
            }
            if (request.ToolChoice is { } choice)
            {
                if (choice is JsonObject forced)
                {
                    writer.WriteStartObject("tool_choice");
                    writer.WriteString("type", "function");
                    writer.WriteStartObject("function");
                    writer.WriteString("name", (string?)forced["name"]);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteString("tool_choice", (string?)choice);
                }
            }
            if (request.ParallelToolCalls is { } parallel && request.Tools.Count > 0)
            {
                writer.WriteBoolean("parallel_tool_calls", parallel);
            }
            if (request.TextFormat is { } format)
            {
                WriteResponseFormat(writer, format);
            }
            if (request.ReasoningEffort is { } effort)
            {
                writer.WriteString("reasoning_effort", effort);
            }
            if (request.User is { } user)
            {
                writer.WriteString("user", user);
            }
            if (request.Metadata.Count > 0)
            {
                writer.WritePropertyName("metadata");
                request.Metadata.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMessages(Utf8JsonWriter writer, IReadOnlyList<JsonNode?> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i]!.AsObject();
            switch ((string?)item["type"])
            {
                case "message":
                    WriteMessage(writer, item, items, ref i);
                    break;
                case "function_call":
                    writer.WriteStartObject();
                    writer.WriteString("role", "assistant");
                    writer.WriteNull("content");
                    WriteToolCalls(writer, items, ref i);
                    writer.WriteEndObject();
                    break;
                case "function_call_output":
                    writer.WriteStartObject();
                    writer.WriteString("role", "tool");
                    writer.WriteString("tool_call_id", (string?)item["call_id"]);
                    writer.WriteString("content", (string?)item["output"]);
                    writer.WriteEndObject();
                    break;
            }
        }
    }

    private static void WriteMessage(Utf8JsonWriter writer, JsonObject item, IReadOnlyList<JsonNode?> items, ref int index)
    {
        var role = (string)item["role"]!;
        var parts = item["content"]!.AsArray();
        writer.WriteStartObject();
        // "developer" is OpenAI's newer name for "system"; many upstreams know only the older one.
        writer.WriteString("role", role == "developer" ? "system" : role);
        if (role == "assistant")
        {
            // An assistant turn is text (and refusals) as one string; its function calls follow as tool_calls.
            var text = new System.Text.StringBuilder();
            foreach (var part in parts)
            {
                text.Append((string?)part!["text"] ?? (string?)part["refusal"]);
            }
            writer.WriteString("content", text.ToString());
            if (index + 1 < items.Count && (string?)items[index + 1]!["type"] == "function_call")
            {
                index++;
                WriteToolCalls(writer, items, ref index);
            }
        }
        else if (parts.Count == 1 && (string?)parts[0]!["type"] == "input_text")
        {
            writer.WriteString("content", (string?)parts[0]!["text"]);
        }
        else
        {
            writer.WriteStartArray("content");
            foreach (var part in parts)
            {
                writer.WriteStartObject();
                switch ((string?)part!["type"])
                {
                    case "input_image":
                        writer.WriteString("type", "image_url");
                        writer.WriteStartObject("image_url");
                        writer.WriteString("url", (string?)part["image_url"]);
                        if ((string?)part["detail"] is { } detail)
                        {
                            writer.WriteString("detail", detail);
                        }
                        writer.WriteEndObject();
                        break;
                    default:
                        writer.WriteString("type", "text");
                        writer.WriteString("text", (string?)part["text"] ?? (string?)part["refusal"]);
                        break;
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    /// <summary>Writes the function call at <paramref name="index"/> and those right after it as one <c>tool_calls</c> array.</summary>
    private static void WriteToolCalls(Utf8JsonWriter writer, IReadOnlyList<JsonNode?> items, ref int index)
    {
        writer.WriteStartArray("tool_calls");
        while (true)
        {
            var call = items[index]!;
            writer.WriteStartObject();
            writer.WriteString("id", (string?)call["call_id"]);
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", (string?)call["name"]);
            writer.WriteString("arguments", (string?)call["arguments"]);
            writer.WriteEndObject();
            writer.WriteEndObject();
            if (index + 1 >= items.Count || (string?)items[index + 1]!["type"] != "function_call")
            {
                break;
            }
            index++;
        }
        writer.WriteEndArray();
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonArray tools)
    {
        writer.WriteStartArray("tools");
        foreach (var tool in tools)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", (string?)tool!["name"]);
            if ((string?)tool["description"] is { } description)
            {
                writer.WriteString("description", description);
            }
            if (tool["parameters"] is JsonObject parameters)
            {
                writer.WritePropertyName("parameters");
                parameters.WriteTo(writer);
            }
            if (tool["strict"] is JsonValue strict && strict.GetValue<bool>())
            {
                writer.WriteBoolean("strict", true);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void WriteResponseFormat(Utf8JsonWriter writer, JsonObject format)
    {
        writer.WriteStartObject("response_format");
        var type = (string)format["type"]!;
        writer.WriteString("type", type);
        if (type == "json_schema")
        {
            writer.WriteStartObject("json_schema");
            writer.WriteString("name", (string?)format["name"]);
            if ((string?)format["description"] is { } description)
            {
                writer.WriteString("description", description);
            }
            writer.WritePropertyName("schema");
            format["schema"]!.WriteTo(writer);
            if (format["strict"] is JsonValue strict && strict.GetValue<bool>())
            {
                writer.WriteBoolean("strict", true);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }
}
