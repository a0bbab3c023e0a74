using Baton.Providers.OpenAi;

namespace Baton.Providers.Ollama;

/// <summary>
/// Turns Ollama's complete <c>/api/chat</c> answer into an OpenAI <c>chat.completion</c>. Ollama gives no
/// answer id and no call ids, so both are made up; <c>created</c> comes from its <c>created_at</c>.
/// </summary>
public static class OllamaResponseTranslator
{
    /// <param name="provider">The provider's name, for errors.</param>
    /// <param name="json">Ollama's answer.</param>
    /// <param name="fallbackModel">The model asked for, used when the answer does not name one.</param>
    /// <param name="time">The clock used when the answer carries no <c>created_at</c>.</param>
    /// <param name="redactor">Removes keys from error messages.</param>
    /// <exception cref="System.Text.Json.JsonException">The answer is not a JSON object.</exception>
    /// <exception cref="Errors.BatonException">The answer is an <c>{"error":"..."}</c> body sent with status 200.</exception>
    public static ProviderCompletion Translate(string provider, ReadOnlySpan<byte> json, string fallbackModel, TimeProvider time, SecretRedactor redactor)
    {
        var answer = OllamaMessage.Parse(json);
        if (answer.Error is not null)
        {
            throw UpstreamErrors.FromResponse(provider, 502, json, null, redactor);
        }
        var calls = answer.ToolCalls.Select((call, index) => new OpenAiToolCall(call.Id ?? OllamaIds.Call(index), call.Name, call.ArgumentsJson)).ToList();
        var usage = answer.Usage;
        var body = ChatCompletionWriter.Write(
            OllamaIds.Completion(),
            (answer.CreatedAt ?? time.GetUtcNow()).ToUnixTimeSeconds(),
            answer.Model ?? fallbackModel,
            calls.Count > 0 && answer.Content.Length == 0 ? null : answer.Content,
            calls,
            OllamaMessage.FinishReason(calls.Count > 0, answer.DoneReason),
            usage,
            answer.Thinking.Length > 0 ? answer.Thinking : null);
        return new ProviderCompletion(body, usage);
    }
}

/// <summary>The ids Ollama does not give, in OpenAI's shapes.</summary>
internal static class OllamaIds
{
    public static string Completion() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    /// <summary>Unique within one answer, which is all OpenAI clients need to pair results with calls.</summary>
    public static string Call(int index) => "call_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
