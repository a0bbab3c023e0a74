using System.Text;
using Baton.Errors;

namespace Baton.Simulation.Wire;

/// <summary>
/// OpenAI Chat Completions, also spoken by GitHub Models and Azure AI Inference. With
/// <paramref name="contentFilterPreamble"/>, a stream starts as Azure OpenAI models' streams do: with a
/// prompt-filter frame that has <c>"choices":[]</c>, <c>"id":""</c> and no usage.
/// </summary>
public sealed class OpenAiWireFormat(bool contentFilterPreamble = false) : ISimulatorWireFormat
{
    private static readonly byte[] Preamble =
    [
        .. """data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}"""u8,
        .. "\n\n"u8,
    ];

    public string StreamContentType => "text/event-stream";

    public byte[] RenderCompletion(SimulatedAnswer answer) => OpenAiAnswerRenderer.Completion(answer);

    public IEnumerable<(byte[] Frame, SimulatedChunkKind Kind)> RenderStream(SimulatedAnswer answer)
    {
        if (contentFilterPreamble)
        {
            yield return (Preamble, SimulatedChunkKind.Role);
        }
        foreach (var (json, kind) in OpenAiAnswerRenderer.Chunks(answer))
        {
            yield return ([.. "data: "u8, .. json.Span, .. "\n\n"u8], kind);
        }
        yield return ("data: [DONE]\n\n"u8.ToArray(), SimulatedChunkKind.Usage);
    }

    public byte[] RenderError(int status, string message)
    {
        var type = status switch
        {
            401 => ErrorTypes.Authentication,
            429 => "rate_limit_exceeded",
            _ => ErrorTypes.Server,
        };
        return OpenAiErrorWriter.ToUtf8(new BatonException(status, type, message));
    }

    public byte[] MalformedFrame => Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-broken\",\"choices\":[{\"delta\":\n\n");
}
