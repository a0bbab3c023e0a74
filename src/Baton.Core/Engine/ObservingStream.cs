using System.Runtime.CompilerServices;
using Baton.Providers;

namespace Baton.Engine;

/// <summary>
/// A stream that watches another's chunks go by (to cache the answer, end a span, record the request) without
/// changing them. Observing streams stacked on one another are read in one loop over the stream beneath them all:
/// each chunk is handed to every observer, innermost first, and only then to the reader. So the reader awaits one
/// iterator more than the source's own, however many observers there are, instead of one per observer; and none more
/// when the source hands the chunks to the observers from its own loop (<see cref="ChatStream.ReadObservedAsync"/>).
/// </summary>
/// <remarks>
/// An observer sees what it would have seen as a layer of its own: every chunk, then either the end of the stream
/// (<see cref="OnCompleted"/>) or the error that broke it (<see cref="OnFailed"/>). An observer that throws breaks
/// the stream for the observers above it (they see its error), as a layer throwing from its own loop did. An upstream
/// stream read to its end tells its observers so when it is ended (<see cref="ChatStream.EndAsync"/>, or disposed of),
/// not as its last chunk is read: the reader sends its client the end first.
/// </remarks>
public abstract class ObservingStream : ChatStream
{
    /// <param name="inner">The stream observed; disposed of by the observer's <see cref="ChatStream.DisposeAsync"/>.</param>
    private protected ObservingStream(ChatStream inner) => Inner = inner;

    // The observer stacked on this one (null for the outermost), linked when the stack is read.
    private ObservingStream? _outer;

    /// <summary>The stream observed.</summary>
    private protected ChatStream Inner { get; }

    /// <inheritdoc/>
    public override RouteInfo Route => Inner.Route;

    /// <inheritdoc/>
    public override TokenUsage? Usage => Inner.Usage;

    /// <inheritdoc/>
    public sealed override ValueTask EndAsync() => Inner.EndAsync();

    /// <summary>Reads the stream beneath every stacked observer once, handing each chunk to each observer.</summary>
    public sealed override IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken)
    {
        // Each observer is linked to the one stacked on it, so that the observers are told innermost first (the order
        // in which nested layers saw the chunks and the end) without a list of them.
        ObservingStream? outer = null;
        ChatStream layer = this;
        while (layer is ObservingStream observer)
        {
            observer._outer = outer;
            outer = observer;
            layer = observer.Inner;
        }
        return layer.ReadObservedAsync(outer!, cancellationToken);
    }

    /// <summary>Takes one chunk, before the reader gets it.</summary>
    private protected virtual void OnChunk(in StreamChunk chunk)
    {
    }

    /// <summary>The stream was read to its end.</summary>
    private protected virtual void OnCompleted()
    {
    }

    /// <summary>The stream broke with <paramref name="error"/> (thrown on to the reader after every observer saw it).</summary>
    private protected virtual void OnFailed(Exception error)
    {
    }

    /// <summary>Reads <paramref name="source"/> for the observers from <paramref name="innermost"/> out, for a source without a loop of its own to do it in.</summary>
    internal static async IAsyncEnumerable<StreamChunk> ReadObservedAsync(
        ChatStream source, ObservingStream innermost, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = source.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (chunks.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await chunks.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception error)
                {
                    Fail(innermost, error);
                    throw;
                }
                if (!more)
                {
                    break;
                }
                var chunk = chunks.Current;
                Observe(innermost, chunk);
                yield return chunk;
            }
        }
        Complete(innermost);
    }

    /// <summary>Hands <paramref name="chunk"/> to each observer, from <paramref name="innermost"/> out; one that throws fails those after it, and the stream.</summary>
    internal static void Observe(ObservingStream innermost, in StreamChunk chunk)
    {
        for (var observer = innermost; observer is not null; observer = observer._outer)
        {
            try
            {
                observer.OnChunk(chunk);
            }
            catch (Exception error)
            {
                Fail(observer._outer, error);
                throw;
            }
        }
    }

    /// <summary>Tells the observers, from <paramref name="innermost"/> out, that the stream was read to its end.</summary>
    internal static void Complete(ObservingStream innermost)
    {
        for (var observer = innermost; observer is not null; observer = observer._outer)
        {
            try
            {
                observer.OnCompleted();
            }
            catch (Exception error)
            {
                Fail(observer._outer, error);
                throw;
            }
        }
    }

    /// <summary>Tells the observers from <paramref name="first"/> out that the stream broke.</summary>
    internal static void Fail(ObservingStream? first, Exception error)
    {
        for (var observer = first; observer is not null; observer = observer._outer)
        {
            observer.OnFailed(error);
        }
    }
}
