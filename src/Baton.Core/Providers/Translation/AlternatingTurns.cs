using System.Text.Json;

namespace Baton.Providers.Translation;

/// <summary>
/// Writes a conversation for the APIs that want user and model turns to alternate (Anthropic's, Gemini's): each run of
/// turns that land on one role (several user messages, or tool results, which are the user's) becomes one object,
/// <c>{"role": ..., parts: [...]}</c>, its parts written turn by turn. Turns with nothing to say
/// (<see cref="ChatTurn.HasContent"/>) are left out: both APIs reject empty content.
/// </summary>
internal static class AlternatingTurns
{
    /// <param name="writer">The request being written.</param>
    /// <param name="arrayName">The conversation's array: <c>messages</c>, <c>contents</c>.</param>
    /// <param name="partsName">Each role object's array of parts: <c>content</c>, <c>parts</c>.</param>
    /// <param name="turns">The conversation, without its system prompts.</param>
    /// <param name="assistantRole">The API's name for the assistant's role; every other turn is the user's.</param>
    /// <param name="writeParts">Writes one turn's parts, with <paramref name="state"/>.</param>
    /// <param name="state">What <paramref name="writeParts"/> carries from turn to turn.</param>
    public static void Write<TState>(Utf8JsonWriter writer, string arrayName, string partsName, IReadOnlyList<ChatTurn> turns,
        string assistantRole, Action<Utf8JsonWriter, ChatTurn, TState> writeParts, TState state)
    {
        writer.WriteStartArray(arrayName);
        string? open = null;
        foreach (var turn in turns)
        {
            if (!turn.HasContent)
            {
                continue;
            }
            var role = turn.Role == "assistant" ? assistantRole : "user";
            if (role != open)
            {
                if (open is not null)
                {
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                writer.WriteStartObject();
                writer.WriteString("role", role);
                writer.WriteStartArray(partsName);
                open = role;
            }
            writeParts(writer, turn, state);
        }
        if (open is not null)
        {
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
