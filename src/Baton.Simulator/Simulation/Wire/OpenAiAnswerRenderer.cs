using Baton.Providers.OpenAi;

namespace Baton.Simulation.Wire;

/// <summary>Renders a <see cref="SimulatedAnswer"/> as OpenAI's <c>chat.completion</c> and as its stream of chunks.</summary>
public static class OpenAiAnswerRenderer
{
    public static byte[] Completion(SimulatedAnswer answer) => ChatCompletionWriter.Write(
        answer.Id,
        answer.Created,
        answer.Model,
        answer.ToolCall is null ? answer.Text : null,
        answer.ToolCall is { } call ? [new OpenAiToolCall(call.Id, call.Name, call.ArgumentsJson)] : null,
        answer.FinishReason,
        answer.Usage);

    /// <summary>
    /// The chunks in order: role, one per token (or the tool call in a few pieces), finish reason, usage.
    /// Content chunks are the ones a <c>cut:N</c> fault counts.
    /// </summary>
    public static IEnumerable<(ReadOnlyMemory<byte> Json, SimulatedChunkKind Kind)> Chunks(SimulatedAnswer answer)
    {
        var writer = new ChatChunkWriter(answer.Id, answer.Created, answer.Model);
        yield return (writer.Role(), SimulatedChunkKind.Role);
        if (answer.ToolCall is { } call)
        {
            yield return (writer.ToolCallStart(0, call.Id, call.Name), SimulatedChunkKind.Content);
            foreach (var fragment in SplitArguments(call.ArgumentsJson))
            {
                yield return (writer.ToolCallArguments(0, fragment), SimulatedChunkKind.Content);
            }
        }
        else
        {
            foreach (var piece in answer.Pieces)
            {
                yield return (writer.Content(piece), SimulatedChunkKind.Content);
            }
        }
        yield return (writer.Finish(answer.FinishReason), SimulatedChunkKind.Finish);
        yield return (writer.Usage(answer.Usage), SimulatedChunkKind.Usage);
    }

    /// <summary>Arguments arrive in fragments in real streams; clients must join them.</summary>
    public static IEnumerable<string> SplitArguments(string json)
    {
        const int FragmentLength = 12;
        for (var i = 0; i < json.Length; i += FragmentLength)
        {
            yield return json.Substring(i, Math.Min(FragmentLength, json.Length - i));
        }
    }
}

/// <summary>The part of an answer a simulated chunk carries.</summary>
public enum SimulatedChunkKind
{
    Role,
    Content,
    Finish,
    Usage,
}
