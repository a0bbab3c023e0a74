using System.Text.Json;

namespace Baton.Providers.Translation;

/// <summary>
/// The sampling settings Gemini's <c>generationConfig</c> and Ollama's <c>options</c> both take (temperature,
/// top-p, the answer's length limit, stop sequences and seed), each format naming them its own way.
/// </summary>
internal static class SamplingWriter
{
    public static bool HasAny(OpenAiChatBody body) =>
        body.Temperature is not null || body.TopP is not null || body.MaxTokens is not null || body.Stop.Count > 0 || body.Seed is not null;

    /// <summary>Writes the settings the client gave, as properties of the object being written.</summary>
    public static void Write(Utf8JsonWriter writer, OpenAiChatBody body, string topP, string maxTokens, string stop)
    {
        if (body.Temperature is double temperature) writer.WriteNumber("temperature", temperature);
        if (body.TopP is double p) writer.WriteNumber(topP, p);
        if (body.MaxTokens is int max) writer.WriteNumber(maxTokens, max);
        if (body.Stop.Count > 0)
        {
            writer.WriteStartArray(stop);
            foreach (var sequence in body.Stop)
            {
                writer.WriteStringValue(sequence);
            }
            writer.WriteEndArray();
        }
        if (body.Seed is long seed) writer.WriteNumber("seed", seed);
    }
}
