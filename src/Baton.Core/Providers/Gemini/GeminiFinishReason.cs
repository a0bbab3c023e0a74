namespace Baton.Providers.Gemini;

/// <summary>Gemini's <c>finishReason</c> in OpenAI's vocabulary. Gemini ends a function call with STOP, so callers pass whether one was made.</summary>
internal static class GeminiFinishReason
{
    public static string ToOpenAi(string? reason, bool madeToolCalls) => reason switch
    {
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "LANGUAGE"
            or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT" or "IMAGE_RECITATION" or "IMAGE_OTHER" => "content_filter",
        _ when madeToolCalls => "tool_calls",
        // STOP, OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, NO_IMAGE...: the answer simply ended.
        _ => "stop",
    };
}
