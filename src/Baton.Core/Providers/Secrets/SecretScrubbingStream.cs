using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Baton.Providers.Secrets;

/// <summary>
/// A provider's stream with keys removed from its chunks by a <see cref="StreamSecretScrubber"/>. Chunks go out
/// as soon as the scrubber lets them; when the upstream's stream ends or breaks, anything held goes out first,
/// then the end or the error.
/// </summary>
internal sealed class SecretScrubbingStream(ProviderStream inner, StreamSecretScrubber scrubber) : ProviderStream
{
    public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = inner.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (chunks.ConfigureAwait(false))
        {
            while (true)
            {
                ExceptionDispatchInfo? failure = null;
                bool more;
                try
                {
                    more = await chunks.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    failure = ExceptionDispatchInfo.Capture(ex);
                    more = false;
                }
                Usage = inner.Usage;
                if (more)
                {
                    scrubber.Accept(chunks.Current);
                }
                else
                {
                    scrubber.Complete();
                }
                while (scrubber.TryTake(out var chunk))
                {
                    yield return chunk;
                }
                if (!more)
                {
                    failure?.Throw();
                    yield break;
                }
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
