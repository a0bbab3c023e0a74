using Baton.Providers;

namespace Baton.Engine;

/// <summary>A complete answer in OpenAI's <c>chat.completion</c> shape, and how it was obtained.</summary>
public sealed class ChatCompletionResult(ProviderCompletion completion, RouteInfo route) : IDisposable
{
    public ReadOnlyMemory<byte> Body => completion.Body;

    public TokenUsage Usage => completion.Usage;

    public RouteInfo Route { get; } = route;

    public void Dispose() => completion.Dispose();
}

/// <summary>An answer being streamed as OpenAI chunks, and the deployment streaming it.</summary>
public sealed class ChatStreamResult(ChatStream stream) : IAsyncDisposable
{
    /// <summary>Who is answering; after a resumed stream, the deployment that finished it.</summary>
    public RouteInfo Route => stream.Route;

    /// <summary>The usage reported by the stream, once it has been read to the end.</summary>
    public TokenUsage? Usage => stream.Usage;

    public IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken) => stream.ReadAsync(cancellationToken);

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}
