using System.Text.Json;

namespace Baton.Providers.Gemini;

/// <summary>
/// Reads <c>usageMetadata</c>. Gemini counts thinking apart from the visible answer (<c>thoughtsTokenCount</c>
/// is not in <c>candidatesTokenCount</c>) and includes cached tokens in the prompt; counts of 0 are left out.
/// </summary>
internal static class GeminiUsage
{
    public static TokenUsage Read(JsonElement usage) => From(new GeminiUsageCounts(
        Count(usage, "promptTokenCount"), Count(usage, "toolUsePromptTokenCount"), Count(usage, "thoughtsTokenCount"),
        Count(usage, "candidatesTokenCount"), Count(usage, "cachedContentTokenCount")));

    /// <summary>The usage of counts read from a stream event in one pass (<see cref="GeminiStreamEvent"/>).</summary>
    public static TokenUsage From(GeminiUsageCounts counts)
    {
        // Tool-use prompt tokens are input Gemini adds itself; counting them as prompt keeps the total equal to Gemini's.
        var prompt = counts.Prompt + counts.ToolUsePrompt;
        var completion = counts.Candidates + counts.Thoughts;
        return TokenUsage.Of(prompt, completion, cached: counts.Cached, reasoning: counts.Thoughts);
    }

    private static int Count(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var count) ? count : 0;
}
