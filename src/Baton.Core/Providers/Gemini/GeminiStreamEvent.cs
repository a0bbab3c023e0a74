using System.Text.Json;

namespace Baton.Providers.Gemini;

/// <summary>
/// A stream event (a <c>GenerateContentResponse</c> holding the new parts) read in one pass over its bytes, without a
/// document: the first candidate's text and thought text, its finish reason, the running usage, the response's id and
/// model, each text as UTF-8, unescaped only when it has escapes. Nearly every event of a stream is text alone; the
/// rest (function calls, refusals, errors, shapes Gemini does not send) is left to the document's reading.
/// </summary>
internal readonly ref struct GeminiStreamEvent
{
    /// <summary>The first candidate's text part, empty when it has none.</summary>
    public ReadOnlySpan<byte> Text { get; private init; }

    /// <summary>The first candidate's part marked <c>thought: true</c> (a summary of the model's thinking), empty when it has none.</summary>
    public ReadOnlySpan<byte> Reasoning { get; private init; }

    /// <summary>The first candidate's <c>finishReason</c> when it is a string; see <see cref="Finished"/>.</summary>
    public ReadOnlySpan<byte> FinishReason { get; private init; }

    public bool Finished { get; private init; }

    /// <summary>The event's <c>usageMetadata</c>, when it is an object.</summary>
    public GeminiUsageCounts? Usage { get; private init; }

    public ReadOnlySpan<byte> ResponseId { get; private init; }

    public bool HasResponseId { get; private init; }

    public ReadOnlySpan<byte> ModelVersion { get; private init; }

    public bool HasModelVersion { get; private init; }

    /// <summary>
    /// Reads <paramref name="data"/> as the document's reading (<see cref="GeminiCandidate.Read"/>) would, or returns
    /// false and leaves it to that reading: text that is not one JSON object, an <c>error</c> or <c>promptFeedback</c>,
    /// a first candidate, its content or a part that is not an object, a function call, more than one text or thought
    /// part in the candidate, a candidate list, content or parts that comes twice. Of any other repeated field the last
    /// counts, as in the document's reading. Its strings are found, or unescaped, by <paramref name="strings"/>.
    /// </summary>
    /// <exception cref="JsonException">Not JSON.</exception>
    /// <exception cref="InvalidOperationException">A string that is not UTF-8.</exception>
    public static bool TryRead(ReadOnlySpan<byte> data, EventStrings strings, out GeminiStreamEvent read)
    {
        read = default;
        strings.Begin(data.Length);
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }
        var state = new Reading(strings);
        EventString responseId = default, modelVersion = default;
        GeminiUsageCounts? usage = null;
        var seenCandidates = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("candidates"u8))
            {
                if (!Once(ref seenCandidates) || !ReadCandidates(ref reader, ref state))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("usageMetadata"u8))
            {
                reader.Read();
                usage = reader.TokenType == JsonTokenType.StartObject ? ReadUsage(ref reader) : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("responseId"u8))
            {
                reader.Read();
                responseId = strings.Read(ref reader);
            }
            else if (reader.ValueTextEquals("modelVersion"u8))
            {
                reader.Read();
                modelVersion = strings.Read(ref reader);
            }
            else if (reader.ValueTextEquals("error"u8) || reader.ValueTextEquals("promptFeedback"u8))
            {
                return false;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // Anything after the object: not JSON, as a document would say (Read throws).
        if (reader.Read())
        {
            return false;
        }
        read = new GeminiStreamEvent
        {
            Text = strings.Of(state.Text, data),
            Reasoning = strings.Of(state.Reasoning, data),
            FinishReason = strings.Of(state.FinishReason, data),
            Finished = state.FinishReason.Present,
            Usage = usage,
            ResponseId = strings.Of(responseId, data),
            HasResponseId = responseId.Present,
            ModelVersion = strings.Of(modelVersion, data),
            HasModelVersion = modelVersion.Present,
        };
        return true;
    }

    /// <summary>The <c>candidates</c> array, the reader on its name: the first candidate read, the others skipped.</summary>
    private static bool ReadCandidates(ref Utf8JsonReader reader, ref Reading state)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            // No array, no candidate, as the document's reading has it.
            reader.Skip();
            return true;
        }
        if (!reader.Read() || reader.TokenType == JsonTokenType.EndArray)
        {
            return true;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }
        var seenContent = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("finishReason"u8))
            {
                reader.Read();
                state.FinishReason = state.Strings.Read(ref reader);
            }
            else if (reader.ValueTextEquals("content"u8))
            {
                if (!Once(ref seenContent) || !reader.Read() || reader.TokenType != JsonTokenType.StartObject || !ReadContent(ref reader, ref state))
                {
                    return false;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // The other candidates (Baton asks for one).
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            reader.Skip();
        }
        return true;
    }

    /// <summary>A candidate's <c>content</c>, the reader on its start: the text of its parts.</summary>
    private static bool ReadContent(ref Utf8JsonReader reader, ref Reading state)
    {
        var seenParts = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("parts"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }
            if (!Once(ref seenParts))
            {
                return false;
            }
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject || !ReadPart(ref reader, ref state))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>One part, the reader on its start: its text, as text or thought; false for a function call.</summary>
    private static bool ReadPart(ref Utf8JsonReader reader, ref Reading state)
    {
        EventString text = default;
        var thought = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                text = state.Strings.Read(ref reader);
            }
            else if (reader.ValueTextEquals("thought"u8))
            {
                reader.Read();
                thought = reader.TokenType == JsonTokenType.True;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("functionCall"u8))
            {
                return false;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (!text.Present)
        {
            return true;
        }
        // One text and one thought a candidate are read here; more would have to be joined.
        ref var into = ref thought ? ref state.Reasoning : ref state.Text;
        if (into.Present)
        {
            return false;
        }
        into = text;
        return true;
    }

    /// <summary>A <c>usageMetadata</c> object's counts, the reader on its start; it ends on the object's end.</summary>
    private static GeminiUsageCounts ReadUsage(ref Utf8JsonReader reader)
    {
        int prompt = 0, toolUsePrompt = 0, thoughts = 0, candidates = 0, cached = 0, ignored = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref var count = ref reader.ValueTextEquals("promptTokenCount"u8) ? ref prompt
                : ref reader.ValueTextEquals("toolUsePromptTokenCount"u8) ? ref toolUsePrompt
                : ref reader.ValueTextEquals("thoughtsTokenCount"u8) ? ref thoughts
                : ref reader.ValueTextEquals("candidatesTokenCount"u8) ? ref candidates
                : ref reader.ValueTextEquals("cachedContentTokenCount"u8) ? ref cached
                : ref ignored;
            reader.Read();
            // A count that is no whole number, or no number, counts 0, as the document's reading has it.
            count = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : 0;
            reader.Skip();
        }
        return new GeminiUsageCounts(prompt, toolUsePrompt, thoughts, candidates, cached);
    }

    /// <summary>True the first time (and marks it seen): a field that comes twice is left to the document's reading.</summary>
    private static bool Once(ref bool seen)
    {
        var first = !seen;
        seen = true;
        return first;
    }

    /// <summary>What the pass has found so far in the candidate, and where the event's strings are.</summary>
    private ref struct Reading(EventStrings strings)
    {
        public readonly EventStrings Strings = strings;
        public EventString Text;
        public EventString Reasoning;
        public EventString FinishReason;
    }
}

/// <summary>The counts of a <c>usageMetadata</c> object that Baton reads (0 for one it does not carry as a whole number).</summary>
internal readonly record struct GeminiUsageCounts(int Prompt, int ToolUsePrompt, int Thoughts, int Candidates, int Cached);
