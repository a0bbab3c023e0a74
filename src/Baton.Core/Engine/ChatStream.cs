using Baton.Providers;

namespace Baton.Engine;

/// <summary>An answer as OpenAI chunks, from an upstream (resumed if cut) or replayed from the cache.</summary>
public abstract class ChatStream : IAsyncDisposable
{
    /// <summary>Who is answering; may change when a cut stream is resumed elsewhere.</summary>
    public abstract RouteInfo Route { get; }

    /// <summary>The usage reported by the stream, once it has been read to the end.</summary>
    public abstract TokenUsage? Usage { get; }

    public abstract IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}
