using System.Buffers;
using System.Text.Json;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>
/// Writes the engine's answer (a <c>chat.completion</c>) as an Anthropic <c>message</c>: reasoning as a
/// <c>thinking</c> block, then the text, then each tool call as a <c>tool_use</c> block whose <c>input</c> is the
/// arguments object; the finish reason as <c>stop_reason</c>, and the usage in Anthropic's terms.
/// </summary>
internal static class AnthropicMessageWriter
{
    public static byte[] Write(ReadOnlySpan<byte> completion, TokenUsage usage)
    {
        var reader = new Utf8JsonReader(completion);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var choice = root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
            ? choices[0]
            : default;
        var message = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("message", out var m) ? m : default;

        var buffer = new ArrayBufferWriter<byte>(completion.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", AnthropicUsageJson.MessageId(String(root, "id")));
            writer.WriteString("type", "message");
            writer.WriteString("role", "assistant");
            writer.WriteString("model", String(root, "model") ?? "");
            writer.WriteStartArray("content");
            if (String(message, "reasoning_content") is { Length: > 0 } thinking)
            {
                writer.WriteStartObject();
                writer.WriteString("type", "thinking");
                writer.WriteString("thinking", thinking);
                // Anthropic's own signature when an Anthropic deployment thought; none from providers that sign nothing.
                writer.WriteString("signature", String(message, "reasoning_signature") ?? "");
                writer.WriteEndObject();
            }
            if (String(message, "content") is { Length: > 0 } text)
            {
                writer.WriteStartObject();
                writer.WriteString("type", "text");
                writer.WriteString("text", text);
                writer.WriteEndObject();
            }
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var function = call.TryGetProperty("function", out var f) ? f : default;
                    writer.WriteStartObject();
                    writer.WriteString("type", "tool_use");
                    writer.WriteString("id", String(call, "id") ?? "");
                    writer.WriteString("name", String(function, "name") ?? "");
                    writer.WritePropertyName("input");
                    WriteInput(writer, String(function, "arguments"));
                    writer.WriteEndObject();
                }
            }
            writer.WriteEndArray();
            writer.WriteString("stop_reason", AnthropicUsageJson.StopReason(String(choice, "finish_reason")));
            writer.WriteNull("stop_sequence");
            AnthropicUsageJson.Write(writer, usage);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The arguments object of a tool call. Arguments that are not a JSON object (a model that wrote broken JSON) are
    /// kept whole as a string under <c>_raw_arguments</c> rather than dropped, so the caller sees what the model wrote.
    /// </summary>
    internal static void WriteInput(Utf8JsonWriter writer, string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
            return;
        }
        try
        {
            using var parsed = JsonDocument.Parse(arguments);
            if (parsed.RootElement.ValueKind == JsonValueKind.Object)
            {
                parsed.RootElement.WriteTo(writer);
                return;
            }
        }
        catch (JsonException)
        {
            // Written below as text.
        }
        writer.WriteStartObject();
        writer.WriteString("_raw_arguments", arguments);
        writer.WriteEndObject();
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
