namespace Baton.Requests;

/// <summary>
/// A request as it arrived in a wire format other than Chat Completions (e.g. Anthropic's Messages API). The engine
/// routes, limits and accounts the request by its <see cref="ChatRequest"/> translation; a provider that speaks
/// <see cref="Format"/> itself forwards <see cref="Body"/> instead, with only the model and its own auth changed, so
/// nothing the translation cannot carry (prompt-cache markers, <c>top_k</c>, thinking signatures) is lost.
/// </summary>
public sealed class NativeRequest
{
    /// <summary>The format of Anthropic's Messages API (<c>POST /v1/messages</c>).</summary>
    public const string AnthropicMessages = "anthropic-messages";

    /// <summary>Creates a native request.</summary>
    /// <param name="format">The wire format, e.g. <see cref="AnthropicMessages"/>.</param>
    /// <param name="body">The client's JSON body, exactly as received.</param>
    /// <param name="headers">The client's protocol headers to forward (e.g. <c>anthropic-beta</c>); never auth headers.</param>
    public NativeRequest(string format, ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string>? headers = null)
    {
        Format = format;
        Body = body;
        Headers = headers ?? new Dictionary<string, string>();
    }

    /// <summary>The wire format of <see cref="Body"/>.</summary>
    public string Format { get; }

    /// <summary>The client's JSON body, exactly as received.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Protocol headers of the client's request that a provider speaking the same format forwards.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Whether this is a request of Anthropic's Messages API.</summary>
    public bool IsAnthropicMessages => Format == AnthropicMessages;
}
