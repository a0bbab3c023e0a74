namespace Baton.Providers.Gemini;

/// <summary>
/// The tool-call ids Baton hands to clients for Gemini calls. Gemini 3 rejects a function-calling history
/// whose model turn lost its <c>thoughtSignature</c>, and an OpenAI history has no place for one: the only
/// thing a client is sure to send back unchanged is the call id. So the signature rides in the id, after
/// <see cref="Separator"/>, and is split off again when the history is translated back.
/// </summary>
public static class GeminiToolCallIds
{
    public const string Separator = "__thought__";

    /// <summary>The id for the client: Gemini's own id (or <c>call_N</c> when it gave none), plus the signature.</summary>
    public static string Compose(string? geminiId, int index, string? thoughtSignature)
    {
        var id = string.IsNullOrEmpty(geminiId) ? Generated(index) : geminiId;
        return string.IsNullOrEmpty(thoughtSignature) ? id : id + Separator + thoughtSignature;
    }

    /// <summary>Splits a client's call id into the id to send to Gemini (null for one Baton made up) and the signature.</summary>
    public static (string? Id, string? ThoughtSignature) Split(string callId)
    {
        var at = callId.IndexOf(Separator, StringComparison.Ordinal);
        var id = at < 0 ? callId : callId[..at];
        var signature = at < 0 ? null : callId[(at + Separator.Length)..];
        return (IsGenerated(id) || id.Length == 0 ? null : id, string.IsNullOrEmpty(signature) ? null : signature);
    }

    private static string Generated(int index) => "call_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // Gemini never saw the ids Baton made up, so they are not sent back to it.
    private static bool IsGenerated(string id) =>
        id.StartsWith("call_", StringComparison.Ordinal) && id.Length > 5 && id.AsSpan(5).IndexOfAnyExceptInRange('0', '9') < 0;
}
