using System.Text;
using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>
/// What Baton reads from a non-streamed <c>chat.completion</c> body, found in one forward pass: what the provider
/// needs (the usage, an error sent in place of an answer), what the engine needs (whether the answer is complete and
/// may be cached, its text when the provider reported no usage) and what a recorded span needs (the answer's id,
/// model and finish reasons). The pass only notes where strings are; they are decoded when asked for, so an answer
/// that nobody traces costs no strings. The facts read the body they were taken from: they are valid while it is.
/// </summary>
internal sealed class CompletionFacts
{
    /// <summary>The facts of a body that is not a JSON object: no usage, no choices, not complete, no text.</summary>
    private static readonly CompletionFacts None = new(ReadOnlyMemory<byte>.Empty);

    private readonly ReadOnlyMemory<byte> _body;

    // Byte ranges of string tokens (quotes included) and of message objects; an empty range is "none".
    private Range _id;
    private Range _model;
    private Range _firstFinishReason;
    private List<Range>? _moreFinishReasons;
    private Range _firstMessage;
    private List<Range>? _moreMessages;
    private string? _text;

    private CompletionFacts(ReadOnlyMemory<byte> body) => _body = body;

    /// <summary>The usage object, when present.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>A choice has a <c>finish_reason</c>.</summary>
    public bool HasFinishReason { get; private set; }

    /// <summary>The message of an <c>error</c> object sent in place of an answer.</summary>
    public string? ErrorMessage { get; private set; }

    /// <summary>The number of entries in <c>choices</c>; -1 when the body has no <c>choices</c> array.</summary>
    public int ChoiceCount { get; private set; } = -1;

    /// <summary>Only a complete answer is cached: one with a finish reason and without an error.</summary>
    public bool IsComplete => HasFinishReason && ErrorMessage is null;

    /// <summary>The answer's <c>id</c> (the first given as a string).</summary>
    public string? Id => _id.End.Value == 0 ? null : DecodeString(_body.Span[_id]);

    /// <summary>The model the upstream named (the first <c>model</c> given as a string).</summary>
    public string? Model => _model.End.Value == 0 ? null : DecodeString(_body.Span[_model]);

    /// <summary>Every choice's finish reason, in order.</summary>
    public IReadOnlyList<string> FinishReasons
    {
        get
        {
            if (_firstFinishReason.End.Value == 0)
            {
                return [];
            }
            var reasons = new List<string>(1 + (_moreFinishReasons?.Count ?? 0)) { DecodeString(_body.Span[_firstFinishReason]) };
            foreach (var reason in _moreFinishReasons ?? [])
            {
                reasons.Add(DecodeString(_body.Span[reason]));
            }
            return reasons;
        }
    }

    /// <summary>
    /// The text of the answer's choices, for counting an unreported completion and for a span's content: every field of
    /// each choice's <c>message</c> but its role, a string as its text and anything else as its JSON.
    /// </summary>
    public string Text => _firstMessage.End.Value == 0 ? "" : _text ??= BuildText();

    /// <summary>Reads a body; throws <see cref="JsonException"/> when it is not a well-formed JSON object.</summary>
    /// <exception cref="JsonException">The body is not a JSON object, or not well-formed.</exception>
    public static CompletionFacts Read(ReadOnlyMemory<byte> body)
    {
        var reader = new Utf8JsonReader(body.Span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected a JSON object.");
        }
        var facts = new CompletionFacts(body);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    facts.Usage = OpenAiUsageJson.Read(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    facts.ReadChoices(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null)
                {
                    facts.ErrorMessage = OpenAiPayloadInspector.ReadErrorMessage(ref reader);
                }
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                facts._id = FirstString(ref reader, facts._id);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                facts._model = FirstString(ref reader, facts._model);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // Reading to the end validates the rest of the document.
        while (reader.Read())
        {
        }
        return facts;
    }

    /// <summary>Reads a body; a body that is not a well-formed JSON object has no facts (not complete, no text).</summary>
    public static CompletionFacts ReadOrNone(ReadOnlyMemory<byte> body)
    {
        try
        {
            return Read(body);
        }
        catch (JsonException)
        {
            return None;
        }
    }

    /// <summary>
    /// The choices: their count, whether one has a finish reason, their finish reasons, and each one's message. A
    /// later <c>choices</c> array replaces the messages of an earlier one, and a later <c>message</c> in a choice its
    /// earlier one, as a JSON object's last duplicate name wins.
    /// </summary>
    private void ReadChoices(ref Utf8JsonReader reader)
    {
        ChoiceCount = 0;
        _firstMessage = default;
        _moreMessages?.Clear();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            ChoiceCount++;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            var finish = false;
            Range message = default;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                if (reader.ValueTextEquals("finish_reason"u8))
                {
                    reader.Read();
                    finish = reader.TokenType == JsonTokenType.String;
                    if (finish)
                    {
                        Add(ref _firstFinishReason, ref _moreFinishReasons, StringToken(ref reader));
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    var isObject = reader.TokenType == JsonTokenType.StartObject;
                    reader.Skip();
                    message = isObject ? start..((int)reader.TokenStartIndex + 1) : default;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            HasFinishReason |= finish;
            if (message.End.Value != 0)
            {
                Add(ref _firstMessage, ref _moreMessages, message);
            }
        }
    }

    private static void Add(ref Range first, ref List<Range>? more, Range range)
    {
        if (first.End.Value == 0)
        {
            first = range;
        }
        else
        {
            (more ??= []).Add(range);
        }
    }

    private static Range FirstString(ref Utf8JsonReader reader, Range found)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return found;
        }
        return found.End.Value != 0 ? found : StringToken(ref reader);
    }

    /// <summary>The current string token's bytes, quotes included (its value as written, escapes and all).</summary>
    private static Range StringToken(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        return start..(start + reader.ValueSpan.Length + 2);
    }

    private static string DecodeString(ReadOnlySpan<byte> token)
    {
        var reader = new Utf8JsonReader(token);
        reader.Read();
        return reader.GetString()!;
    }

    private string BuildText()
    {
        var text = new StringBuilder();
        AppendMessage(text, _body.Span[_firstMessage]);
        foreach (var message in _moreMessages ?? [])
        {
            AppendMessage(text, _body.Span[message]);
        }
        return text.ToString();
    }

    private static void AppendMessage(StringBuilder text, ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var isRole = reader.ValueTextEquals("role"u8);
            reader.Read();
            if (isRole)
            {
                reader.Skip();
            }
            else if (reader.TokenType == JsonTokenType.String)
            {
                text.Append(reader.GetString());
            }
            else
            {
                var start = (int)reader.TokenStartIndex;
                var isContainer = reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray;
                var length = reader.ValueSpan.Length;
                reader.Skip();
                var end = isContainer ? (int)reader.TokenStartIndex + 1 : start + length;
                text.Append(Encoding.UTF8.GetString(message[start..end]));
            }
        }
    }
}
