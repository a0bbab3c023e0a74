using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>Reads and writes OpenAI's <c>usage</c> object, including cached-input and reasoning token details.</summary>
public static class OpenAiUsageJson
{
    public static void Write(Utf8JsonWriter writer, TokenUsage usage)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.PromptTokens);
        writer.WriteNumber("completion_tokens", usage.CompletionTokens);
        writer.WriteNumber("total_tokens", usage.TotalTokens);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", usage.CachedPromptTokens);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Reads a usage object; the reader is on its <see cref="JsonTokenType.StartObject"/> and ends on its end.</summary>
    public static TokenUsage Read(ref Utf8JsonReader reader)
    {
        int prompt = 0, completion = 0, total = 0, cached = 0, reasoning = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("prompt_tokens"u8)) prompt = ReadInt(ref reader);
            else if (name.SequenceEqual("completion_tokens"u8)) completion = ReadInt(ref reader);
            else if (name.SequenceEqual("total_tokens"u8)) total = ReadInt(ref reader);
            else if (name.SequenceEqual("prompt_tokens_details"u8)) cached = ReadDetail(ref reader, "cached_tokens"u8);
            else if (name.SequenceEqual("completion_tokens_details"u8)) reasoning = ReadDetail(ref reader, "reasoning_tokens"u8);
            else reader.Skip();
        }
        return new TokenUsage(prompt, completion, total == 0 ? prompt + completion : total, cached, reasoning);
    }

    private static int ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> field)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return 0;
        }
        var value = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var isField = reader.ValueSpan.SequenceEqual(field);
            reader.Read();
            if (isField) value = ReadInt(ref reader);
            else reader.Skip();
        }
        return value;
    }

    private static int ReadInt(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : 0;
}
