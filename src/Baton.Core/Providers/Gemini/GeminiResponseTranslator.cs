using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Providers.Gemini;

/// <summary>Turns a <c>GenerateContentResponse</c> into an OpenAI <c>chat.completion</c>.</summary>
public static class GeminiResponseTranslator
{
    /// <param name="root">The response object (not an error body; see <see cref="GeminiCandidate.ErrorMessage"/>).</param>
    /// <param name="fallbackModel">The model asked for, used when the answer does not name its <c>modelVersion</c>.</param>
    /// <param name="created">Unix seconds for <c>created</c>.</param>
    /// <param name="usage">The answer's usage, zero when Gemini reported none.</param>
    public static byte[] Translate(JsonElement root, string fallbackModel, long created, out TokenUsage usage)
    {
        var answer = GeminiCandidate.Read(root, firstCallIndex: 0);
        usage = answer.Usage ?? default;
        var blocked = answer.BlockReason is not null && answer.FinishReason is null;
        var finishReason = blocked ? "content_filter" : GeminiFinishReason.ToOpenAi(answer.FinishReason, answer.ToolCalls.Count > 0);
        // A tool-call-only answer has null content, as OpenAI sends it; anything else has a string, empty when blocked.
        var content = answer.Text.Length == 0 && answer.ToolCalls.Count > 0 ? null : answer.Text;
        return ChatCompletionWriter.Write(
            answer.ResponseId ?? NewId(),
            created,
            answer.ModelVersion ?? fallbackModel,
            content,
            answer.ToolCalls,
            finishReason,
            usage,
            answer.Reasoning.Length > 0 ? answer.Reasoning : null);
    }

    internal static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N");
}
