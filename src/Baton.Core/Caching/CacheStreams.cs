using System.Runtime.CompilerServices;
using Baton.Engine;
using Baton.Providers;

namespace Baton.Caching;

/// <summary>A streamed answer served from the cache: the stored completion replayed as chunks.</summary>
public sealed class ReplayStream(CachedAnswer answer, RouteInfo route) : ChatStream
{
    public override RouteInfo Route => route;

    public override TokenUsage? Usage => answer.Usage;

    public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var chunk in CompletionReplay.Chunks(answer.Body, answer.Usage))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return chunk;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Passes a live stream through while assembling it, and stores the answer once the stream has ended
/// properly — not when it was cut, failed, or was stitched together from a resumed stream.
/// </summary>
public sealed class CachingStream(ChatStream inner, CacheLookup lookup) : ObservingStream(inner)
{
    private readonly StreamAssembler _assembler = new();

    private protected override void OnChunk(in StreamChunk chunk) => _assembler.Add(chunk);

    private protected override void OnCompleted()
    {
        var route = Inner.Route;
        if (!route.StreamResumed && Inner.Usage is { } usage && _assembler.WriteCompletion(usage) is { IsEmpty: false } completion)
        {
            // The answer's bytes are lent: the store copies them only if it keeps them (an equal answer may be held already).
            lookup.Save(route.Model, route.Deployment, completion, usage);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        // The stream beneath may end the answer as it is disposed of (see ChatStream.EndAsync): the answer is stored
        // before the lead on its key is given up, so that identical requests waiting for it get it.
        try
        {
            await Inner.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            lookup.Dispose();
            _assembler.Dispose();
        }
    }
}
