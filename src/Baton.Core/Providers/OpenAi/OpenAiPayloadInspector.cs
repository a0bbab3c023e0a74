using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>
/// One pass over an OpenAI response or stream chunk that checks it is well-formed JSON and picks out what
/// Baton needs: usage, whether it is the usage-only final chunk, whether a finish reason was given, and an
/// error object if the upstream sent one in place of an answer.
/// </summary>
public static class OpenAiPayloadInspector
{
    /// <summary>What one payload holds.</summary>
    /// <param name="Usage">The usage object, when present.</param>
    /// <param name="IsUsageOnly">The payload has usage and an empty <c>choices</c> array (the final usage chunk).</param>
    /// <param name="HasFinishReason">A choice has a <c>finish_reason</c>.</param>
    /// <param name="ErrorMessage">The message of an <c>error</c> object sent in place of an answer.</param>
    /// <param name="ChoiceCount">The number of entries in <c>choices</c>; -1 when the payload has no <c>choices</c> array.</param>
    public readonly record struct Findings(TokenUsage? Usage, bool IsUsageOnly, bool HasFinishReason, string? ErrorMessage, int ChoiceCount = -1);

    /// <exception cref="JsonException">The payload is not valid JSON.</exception>
    public static Findings Inspect(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected a JSON object.");
        }

        TokenUsage? usage = null;
        var choices = -1;
        var finish = false;
        string? error = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("usage"u8) && reader.TokenType == JsonTokenType.StartObject)
            {
                usage = OpenAiUsageJson.Read(ref reader);
            }
            else if (name.SequenceEqual("choices"u8) && reader.TokenType == JsonTokenType.StartArray)
            {
                choices = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    choices++;
                    finish |= ReadChoiceHasFinish(ref reader);
                }
            }
            else if (name.SequenceEqual("error"u8) && reader.TokenType != JsonTokenType.Null)
            {
                error = ReadErrorMessage(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
        // Reading to the end validates the rest of the document.
        while (reader.Read())
        {
        }
        return new Findings(usage, choices == 0 && usage is not null, finish, error, choices);
    }

    private static bool ReadChoiceHasFinish(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }
        var finish = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var isFinish = reader.ValueSpan.SequenceEqual("finish_reason"u8);
            reader.Read();
            if (isFinish) finish = reader.TokenType == JsonTokenType.String;
            else reader.Skip();
        }
        return finish;
    }

    /// <summary>The message of an <c>error</c> value (a string, or an object's <c>message</c>); the reader ends on the value's end.</summary>
    internal static string ReadErrorMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString()!;
        }
        var message = "The provider reported an error.";
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return message;
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var isMessage = reader.ValueSpan.SequenceEqual("message"u8);
            reader.Read();
            if (isMessage && reader.TokenType == JsonTokenType.String) message = reader.GetString()!;
            else reader.Skip();
        }
        return message;
    }
}
