namespace Baton.Simulation.Wire;

/// <summary>
/// One provider's wire format as the HTTP simulator speaks it: how it renders an answer, a stream and an
/// error. Every frame is complete as sent on the wire (an SSE event with its blank line, or an NDJSON line).
/// </summary>
public interface ISimulatorWireFormat
{
    /// <summary>The content type of streamed answers: <c>text/event-stream</c> or <c>application/x-ndjson</c>.</summary>
    string StreamContentType { get; }

    byte[] RenderCompletion(SimulatedAnswer answer);

    IEnumerable<(byte[] Frame, SimulatedChunkKind Kind)> RenderStream(SimulatedAnswer answer);

    /// <summary>An error body in this provider's shape.</summary>
    byte[] RenderError(int status, string message);

    /// <summary>
    /// A 429 body. Formats that carry the retry delay in the body (Gemini's RetryInfo) override this; the others
    /// rely on the <c>Retry-After</c> header the simulator always sends.
    /// </summary>
    byte[] RenderRateLimit(string message, int retryAfterSeconds) => RenderError(429, message);

    /// <summary>A stream frame whose payload is not valid JSON.</summary>
    byte[] MalformedFrame { get; }
}
