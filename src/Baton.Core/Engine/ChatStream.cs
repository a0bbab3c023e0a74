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

    /// <summary>
    /// Reads the chunks for the observers stacked on this stream (see <see cref="ObservingStream"/>): each chunk is
    /// handed to them before the reader gets it, then the end or the error. A stream that reads in a loop of its own
    /// overrides this to hand them the chunks from that loop, one iterator less for every stream.
    /// </summary>
    internal virtual IAsyncEnumerable<StreamChunk> ReadObservedAsync(ObservingStream innermost, CancellationToken cancellationToken) =>
        ObservingStream.ReadObservedAsync(this, innermost, cancellationToken);

    /// <summary>
    /// Closes the books of a stream read to its end: its ledger rows and budget, and the observers' end (cache, span,
    /// record). A stream that defers them (so that the reader's last bytes need not wait for them) does this when it is
    /// disposed of, or earlier when a reader needs the final cost before it answers; once, either way.
    /// </summary>
    public virtual ValueTask EndAsync() => ValueTask.CompletedTask;

    public abstract ValueTask DisposeAsync();
}
