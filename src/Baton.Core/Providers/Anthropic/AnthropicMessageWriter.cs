using System.Text.Json;
using Baton.Providers.Translation;

namespace Baton.Providers.Anthropic;

/// <summary>
/// Writes the conversation as Anthropic <c>messages</c>. Anthropic wants user and assistant turns to
/// alternate, so turns that land on the same role (several user messages, or tool results that become user
/// content) are merged into one message. Turns with nothing to say are left out: Anthropic rejects empty content.
/// </summary>
internal static class AnthropicMessageWriter
{
    public static void WriteMessages(Utf8JsonWriter writer, IReadOnlyList<ChatTurn> turns) =>
        AlternatingTurns.Write(writer, "messages", "content", turns, "assistant", static (w, turn, _) => WriteBlocks(w, turn), 0);

    private static void WriteBlocks(Utf8JsonWriter writer, ChatTurn turn)
    {
        if (turn.Role == "tool")
        {
            writer.WriteStartObject();
            writer.WriteString("type", "tool_result");
            writer.WriteString("tool_use_id", turn.ToolCallId ?? "");
            writer.WriteString("content", turn.Text);
            writer.WriteEndObject();
            return;
        }
        foreach (var part in turn.Parts)
        {
            if (part.ImageUrl is not null)
            {
                WriteImage(writer, part);
            }
            else if (!string.IsNullOrEmpty(part.Text))
            {
                writer.WriteStartObject();
                writer.WriteString("type", "text");
                writer.WriteString("text", part.Text);
                writer.WriteEndObject();
            }
        }
        foreach (var call in turn.ToolCalls)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "tool_use");
            writer.WriteString("id", call.Id);
            writer.WriteString("name", call.Name);
            writer.WritePropertyName("input");
            WriteInput(writer, call);
            writer.WriteEndObject();
        }
    }

    private static void WriteImage(Utf8JsonWriter writer, ChatPart part)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "image");
        writer.WriteStartObject("source");
        if (part.TryGetInlineImage(out var mediaType, out var data))
        {
            writer.WriteString("type", "base64");
            writer.WriteString("media_type", mediaType);
            writer.WriteString("data", data);
        }
        else
        {
            writer.WriteString("type", "url");
            writer.WriteString("url", part.ImageUrl);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>OpenAI carries arguments as JSON text; Anthropic's <c>input</c> is the object itself.</summary>
    private static void WriteInput(Utf8JsonWriter writer, ChatToolCall call)
    {
        try
        {
            using var arguments = JsonDocument.Parse(call.ArgumentsJson);
            if (arguments.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw AnthropicRequestTranslator.BadArguments(call.Name);
            }
            arguments.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            throw AnthropicRequestTranslator.BadArguments(call.Name);
        }
    }
}
