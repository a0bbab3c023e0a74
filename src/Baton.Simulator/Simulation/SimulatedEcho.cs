using System.Text;

namespace Baton.Simulation;

/// <summary>
/// What the echo faults send: an answer that repeats the key the simulator received, and a long plain-text
/// error body with the key at a chosen position. They make the gateway's key scrubbing testable against a real
/// echo, in answers, streams and errors.
/// </summary>
public static class SimulatedEcho
{
    /// <summary>Where the key starts in the error body by default: across the 500th character.</summary>
    public const int DefaultErrorOffset = 490;

    /// <summary>The length of the error body, unless the key at its offset needs more.</summary>
    public const int ErrorBodyLength = 1000;

    /// <summary>What is echoed when the request carried no key.</summary>
    public const string NoKey = "(no key)";

    private const int PieceLength = 3;
    private const string Filler = "Unauthorized (simulated): a proxy in front of the model echoes what it received. ";

    /// <summary>
    /// The answer with a sentence quoting <paramref name="key"/> appended, the key split into pieces of three
    /// characters (one stream chunk each). A tool call is answered as it is.
    /// </summary>
    public static SimulatedAnswer WithKey(SimulatedAnswer answer, string key)
    {
        if (answer.ToolCall is not null)
        {
            return answer;
        }
        List<string> pieces = [.. answer.Pieces, " The", " key", " I", " received", " is", " "];
        for (var i = 0; i < key.Length; i += PieceLength)
        {
            pieces.Add(key.Substring(i, Math.Min(PieceLength, key.Length - i)));
        }
        pieces.Add(".");
        var reasoning = answer.Usage.ReasoningTokens;
        return new SimulatedAnswer
        {
            Id = answer.Id,
            Model = answer.Model,
            Created = answer.Created,
            Pieces = pieces,
            FinishReason = answer.FinishReason,
            Usage = Providers.TokenUsage.Of(answer.Usage.PromptTokens, pieces.Count + reasoning, reasoning: reasoning),
        };
    }

    /// <summary>A plain-text body of at least <see cref="ErrorBodyLength"/> characters with <paramref name="key"/> at <paramref name="offset"/>.</summary>
    public static string ErrorBody(string key, int offset)
    {
        offset = Math.Clamp(offset, 0, 16 * 1024);
        var body = new StringBuilder(Math.Max(ErrorBodyLength, offset + key.Length + 1));
        while (body.Length < offset)
        {
            body.Append(Filler);
        }
        body.Length = offset;
        body.Append(key);
        while (body.Length < ErrorBodyLength)
        {
            body.Append(' ').Append(Filler);
        }
        return body.ToString();
    }
}
