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
/// nothing, and one that waits for the upstream takes a pooled state machine. It is read once.
/// </remarks>
internal sealed class SecretScrubbingStream(ProviderStream inner, SecretSet secrets)
    : ProviderStream, IAsyncEnumerable<StreamChunk>, IAsyncEnumerator<StreamChunk>
{
    private StreamSecretScrubber? _scrubber = secrets.RentScrubber();
    private IAsyncEnumerator<StreamChunk>? _chunks;
    private CancellationToken _cancellation;
    private bool _enumerated;
    private bool _ended;
    private ExceptionDispatchInfo? _failure;

    public StreamChunk Current { get; private set; }

    public override IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken)
    {
        _cancellation = cancellationToken;
        return this;
    }

    public IAsyncEnumerator<StreamChunk> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        OneReading.Begin(ref _enumerated, ref _cancellation, cancellationToken);
        return this;
    }

    public ValueTask<bool> MoveNextAsync()
    {
        try
        {
            var scrubber = _scrubber ?? throw new ObjectDisposedException(nameof(SecretScrubbingStream));
            while (true)
            {
                if (TryAnswer(scrubber, out var answer))
                {
                    return new ValueTask<bool>(answer);
                }
                var next = NextFromUpstream();
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
            next = NextFromUpstream();
        }
    }

    /// <summary>
    /// What a move can answer without the upstream: a chunk the scrubber let go (<see cref="Current"/>), or, once the
    /// upstream's stream ended and everything held went out, the end or the upstream's error (thrown).
    /// </summary>
    private bool TryAnswer(StreamSecretScrubber scrubber, out bool answer)
    {
        if (scrubber.TryTake(out var chunk))
        {
            Current = chunk;
            return answer = true;
        }
        if (_ended)
        {
            _failure?.Throw();
            answer = false;
            return true;
        }
        return answer = false;
    }

    private ValueTask<bool> NextFromUpstream()
    {
        try
        {
            return (_chunks ??= inner.ReadAsync(_cancellation).GetAsyncEnumerator(_cancellation)).MoveNextAsync();
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
            scrubber.Accept(_chunks!.Current);
            return;
        }
        scrubber.Complete();
        (_ended, _failure) = (true, failure);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _scrubber, null) is not { } scrubber)
        {
            return;
        }
        if (_chunks is { } chunks)
        {
            await chunks.DisposeAsync().ConfigureAwait(false);
        }
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
        secrets.Return(scrubber);
    }
}
