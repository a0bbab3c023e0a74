using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Baton.Providers.Secrets;

/// <summary>
/// A provider's stream with keys removed from its chunks by a <see cref="StreamSecretScrubber"/>. Chunks go out
/// as soon as the scrubber lets them; when the upstream's stream ends or breaks, anything held goes out first,
/// then the end or the error.
/// </summary>
/// <remarks>
/// Every stream of a gateway with a provider key passes through here, so it costs a stream nothing it can avoid: the
/// scrubber is rented from <paramref name="secrets"/> and given back when the stream is disposed of (reading after
/// that throws, rather than reading with a scrubber another stream may have), and the stream is its own enumerator, as
/// <see cref="OpenAi.OpenAiCompatibleProvider"/>'s streams are: a move answered by a chunk already read allocates
/// nothing, and one that waits for the upstream takes a pooled state machine. The chunk a move took and the reading of
/// the upstream stay in the pooled scrubber (<see cref="StreamSecretScrubber.Current"/>,
/// <see cref="StreamSecretScrubber.Reading"/>), not in this object. It is read once.
/// </remarks>
internal sealed class SecretScrubbingStream(ProviderStream inner, SecretSet secrets)
    : ProviderStream, IAsyncEnumerable<StreamChunk>, IAsyncEnumerator<StreamChunk>
{
    private StreamSecretScrubber? _scrubber = secrets.RentScrubber();

    public StreamChunk Current => _scrubber?.Current ?? default;

    private StreamSecretScrubber Scrubber => _scrubber ?? throw new ObjectDisposedException(nameof(SecretScrubbingStream));

    public override IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken)
    {
        Scrubber.Reading.Cancellation = cancellationToken;
        return this;
    }

    public IAsyncEnumerator<StreamChunk> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        ref var reading = ref Scrubber.Reading;
        OneReading.Begin(ref reading.Enumerated, ref reading.Cancellation, cancellationToken);
        return this;
    }

    public ValueTask<bool> MoveNextAsync()
    {
        try
        {
            var scrubber = Scrubber;
            while (true)
            {
                if (TryAnswer(scrubber, out var answer))
                {
                    return new ValueTask<bool>(answer);
                }
                var next = NextFromUpstream(scrubber);
                if (!next.IsCompletedSuccessfully)
                {
                    return MoveNextAfterAsync(scrubber, next);
                }
                Advance(scrubber, next.Result, null);
            }
        }
        catch (Exception error)
        {
            return ValueTask.FromException<bool>(error);
        }
    }

    /// <summary>A move that waits for the upstream: awaits it, then goes on as <see cref="MoveNextAsync"/> does.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> MoveNextAfterAsync(StreamSecretScrubber scrubber, ValueTask<bool> next)
    {
        while (true)
        {
            bool more;
            ExceptionDispatchInfo? failure = null;
            try
            {
                more = await next.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
                more = false;
            }
            Advance(scrubber, more, failure);
            if (TryAnswer(scrubber, out var answer))
            {
                return answer;
            }
            next = NextFromUpstream(scrubber);
        }
    }

    /// <summary>
    /// What a move can answer without the upstream: a chunk the scrubber let go (<see cref="Current"/>), or, once the
    /// upstream's stream ended and everything held went out, the end or the upstream's error (thrown).
    /// </summary>
    private static bool TryAnswer(StreamSecretScrubber scrubber, out bool answer)
    {
        if (scrubber.TryTake(out _))
        {
            return answer = true;
        }
        if (scrubber.Reading.Ended)
        {
            scrubber.Reading.Failure?.Throw();
            answer = false;
            return true;
        }
        return answer = false;
    }

    private ValueTask<bool> NextFromUpstream(StreamSecretScrubber scrubber)
    {
        try
        {
            ref var reading = ref scrubber.Reading;
            return (reading.Chunks ??= inner.ReadAsync(reading.Cancellation).GetAsyncEnumerator(reading.Cancellation)).MoveNextAsync();
        }
        catch (Exception error)
        {
            return ValueTask.FromException<bool>(error);
        }
    }

    /// <summary>The upstream's next chunk to the scrubber; or its end (<paramref name="more"/> false), after which what is held goes out.</summary>
    private void Advance(StreamSecretScrubber scrubber, bool more, ExceptionDispatchInfo? failure)
    {
        Usage = inner.Usage;
        if (more)
        {
            scrubber.Accept(scrubber.Reading.Chunks!.Current);
            return;
        }
        scrubber.Complete();
        (scrubber.Reading.Ended, scrubber.Reading.Failure) = (true, failure);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _scrubber, null) is not { } scrubber)
        {
            return;
        }
        if (scrubber.Reading.Chunks is { } chunks)
        {
            await chunks.DisposeAsync().ConfigureAwait(false);
        }
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
        scrubber.Secrets.Return(scrubber);
    }
}
