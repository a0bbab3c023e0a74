using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>
/// Reads and writes OpenAI's <c>usage</c> object, including cached-input and reasoning token details, and the
/// fields OpenAI-compatible providers report their prompt cache in instead (the catalog's usage extractors list
/// them): DeepSeek's <c>prompt_cache_hit_tokens</c>, xAI's <c>cached_prompt_text_tokens</c>, a top-level
/// <c>cached_tokens</c> (Anthropic's OpenAI-compatible API), and cache writes in
/// <c>prompt_tokens_details.cache_write_tokens</c> (OpenAI, OpenRouter).
/// </summary>
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
        if (usage.CacheWritePromptTokens > 0)
        {
            writer.WriteNumber("cache_write_tokens", usage.CacheWritePromptTokens);
        }
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Reads a usage object; the reader is on its <see cref="JsonTokenType.StartObject"/> and ends on its end.</summary>
    public static TokenUsage Read(ref Utf8JsonReader reader)
    {
        int prompt = 0, completion = 0, total = 0, cached = 0, reasoning = 0, cacheWrite = 0, cacheHit = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("prompt_tokens"u8)) prompt = ReadInt(ref reader);
            else if (name.SequenceEqual("completion_tokens"u8)) completion = ReadInt(ref reader);
            else if (name.SequenceEqual("total_tokens"u8)) total = ReadInt(ref reader);
            else if (name.SequenceEqual("prompt_tokens_details"u8)) (cached, cacheWrite) = ReadPromptDetails(ref reader, cached, cacheWrite);
            else if (name.SequenceEqual("completion_tokens_details"u8)) reasoning = ReadDetail(ref reader, "reasoning_tokens"u8);
            // DeepSeek, xAI and Anthropic's compatible API: cache hits outside prompt_tokens_details, still inside prompt_tokens.
            else if (name.SequenceEqual("prompt_cache_hit_tokens"u8) || name.SequenceEqual("cached_prompt_text_tokens"u8) ||
                     name.SequenceEqual("cached_tokens"u8)) cacheHit = Math.Max(cacheHit, ReadInt(ref reader));
            else reader.Skip();
        }
        return new TokenUsage(prompt, completion, total == 0 ? prompt + completion : total, Math.Max(cached, cacheHit), reasoning, cacheWrite);
    }

    private static (int Cached, int CacheWrite) ReadPromptDetails(ref Utf8JsonReader reader, int cached, int cacheWrite)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return (cached, cacheWrite);
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("cached_tokens"u8)) cached = ReadInt(ref reader);
            else if (name.SequenceEqual("cache_write_tokens"u8)) cacheWrite = ReadInt(ref reader);
            else reader.Skip();
        }
        return (cached, cacheWrite);
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
