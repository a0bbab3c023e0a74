using System.Text.Json;

namespace Baton.Providers.Gemini;

/// <summary>
/// Reads <c>usageMetadata</c>. Gemini counts thinking apart from the visible answer (<c>thoughtsTokenCount</c>
/// is not in <c>candidatesTokenCount</c>) and includes cached tokens in the prompt; counts of 0 are left out.
/// </summary>
internal static class GeminiUsage
{
    public static TokenUsage Read(JsonElement usage)
    {
        // Tool-use prompt tokens are input Gemini adds itself; counting them as prompt keeps the total equal to Gemini's.
        var prompt = Count(usage, "promptTokenCount") + Count(usage, "toolUsePromptTokenCount");
        var thoughts = Count(usage, "thoughtsTokenCount");
        var completion = Count(usage, "candidatesTokenCount") + thoughts;
        return TokenUsage.Of(prompt, completion, cached: Count(usage, "cachedContentTokenCount"), reasoning: thoughts);
    }

    private static int Count(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var count) ? count : 0;
}
