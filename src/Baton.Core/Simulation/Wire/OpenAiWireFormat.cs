using System.Text;
using Baton.Errors;

namespace Baton.Simulation.Wire;

/// <summary>OpenAI Chat Completions, also spoken by GitHub Models and Azure AI Inference.</summary>
public sealed class OpenAiWireFormat : ISimulatorWireFormat
{
    public string StreamContentType => "text/event-stream";

    public byte[] RenderCompletion(SimulatedAnswer answer) => OpenAiAnswerRenderer.Completion(answer);

    public IEnumerable<(byte[] Frame, SimulatedChunkKind Kind)> RenderStream(SimulatedAnswer answer)
    {
        foreach (var (json, kind) in OpenAiAnswerRenderer.Chunks(answer))
        {
            yield return ([.. "data: "u8, .. json, .. "\n\n"u8], kind);
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
