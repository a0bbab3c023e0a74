using System.Runtime.CompilerServices;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;

namespace Baton.Engine;

/// <summary>
/// A provider stream that has delivered its first chunk, with the watch that bounds the silence between
/// chunks on the injected clock. The watch runs only while a chunk is awaited from the upstream: while the
/// caller holds a chunk (writing it to a client that may read slowly), the upstream is not being asked for
/// anything and its silence is not its fault. Owns the stream and its enumerator.
/// </summary>
/// <remarks>
/// The watch is one timer that is not re-armed per chunk: a read notes when it began and how long it may take,
/// and the timer, when it fires, either cancels the read that overran or sleeps until the current read's
/// deadline. It is moved only when a read's deadline is earlier than the timer's (the first read after a pause,
/// or a shorter limit). One cancellation source, linked to the caller's, stops the upstream read.
/// A read whose chunk is already buffered completes before anything could time it out, so only a read that waits
/// for the upstream is watched (<see cref="Arm"/>), and the timer is made by the first such read: a stream whose
/// chunks all arrived with its headers never makes one.
/// </remarks>
public sealed class StartedStream : IAsyncDisposable
{
    private readonly ProviderStream _stream;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _caller;
    private RateLimitLease? _lease;
    private int _disposed;

    // The watch's state below is guarded by a lock on _linked, the cancellation source: private to this stream and
    // locked by nothing else (CancellationTokenSource synchronises without Monitor), so no object is made only to lock on.

    // Made by the first read that waits for the upstream (guarded); null until then, and once disposed.
    private ITimer? _watch;

    // Guarded: the read in progress (if any), and when the timer fires next.
    private bool _reading;
    private long _readStarted;
    private TimeSpan _readLimit;
    private bool _armed;
    private long _armedAt;
    private TimeSpan _armedFor;
    private bool _expired;

    private StartedStream(ProviderStream stream, TimeProvider time, CancellationToken caller)
    {
        _stream = stream;
        _time = time;
        _caller = caller;
        _linked = caller.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(caller) : new CancellationTokenSource();
        Chunks = stream.ReadAsync(_linked.Token).GetAsyncEnumerator(_linked.Token);
    }

    public IAsyncEnumerator<StreamChunk> Chunks { get; }

    public TokenUsage? Usage => _stream.Usage;

    /// <summary>True when the watch, not the caller, stopped the last read.</summary>
    public bool TimedOut => Volatile.Read(ref _expired) && !_caller.IsCancellationRequested;

    /// <summary>
    /// Takes a stream the upstream has accepted and waits for its first chunk, at most <paramref name="firstChunkTimeout"/>;
    /// disposes of it when none comes. Completes at once when the first chunk came with the response's headers; only a
    /// wait takes a (pooled) state machine. The attempt runner awaits the upstream's acceptance and this in its own state
    /// machine, so that a stream's start has none of its own.
    /// </summary>
    internal static ValueTask<StartedStream> BeginAsync(ProviderStream stream, TimeSpan firstChunkTimeout, TimeProvider time, string provider, CancellationToken caller)
    {
        var started = new StartedStream(stream, time, caller);
        try
        {
            var first = started.MoveNextWithinAsync(firstChunkTimeout, provider);
            if (!first.IsCompletedSuccessfully)
            {
                return FirstChunkAsync(started, first, provider);
            }
            // Ended before its first chunk: the async path disposes of it and says so.
            return first.Result ? new ValueTask<StartedStream>(started) : FirstChunkAsync(started, new ValueTask<bool>(false), provider);
        }
        catch (Exception error)
        {
            return FirstChunkAsync(started, ValueTask.FromException<bool>(error), provider);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<StartedStream> FirstChunkAsync(StartedStream started, ValueTask<bool> first, string provider)
    {
        try
        {
            if (!await first.ConfigureAwait(false))
            {
                throw UpstreamErrors.StreamInterrupted(provider, "the upstream ended the stream without sending anything.");
            }
            return started;
        }
        catch
        {
            await started.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reads the next chunk, failing with <c>stream_interrupted</c> if none comes within <paramref name="limit"/>.</summary>
    /// <remarks>
    /// The read of a stream's first chunk. The chunks after it are read by <see cref="FailoverStream"/>'s own reader
    /// with <see cref="Arm"/>, <see cref="Disarm"/> and <see cref="IdleTimeout"/>, the same steps, which it splits the
    /// same way. A chunk already buffered is returned without a watch or an async method.
    /// </remarks>
    public ValueTask<bool> MoveNextWithinAsync(TimeSpan limit, string provider)
    {
        var read = Chunks.MoveNextAsync();
        return read.IsCompletedSuccessfully ? read : WatchAsync(read, limit, provider);
    }

    /// <summary>Awaits a read that did not complete at once, watched for <paramref name="limit"/> while it waits.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WatchAsync(ValueTask<bool> read, TimeSpan limit, string provider)
    {
        var armed = !read.IsCompleted;
        if (armed)
        {
            Arm(limit);
        }
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (TimedOut)
        {
            throw IdleTimeout(limit, provider);
        }
        finally
        {
            if (armed)
            {
                Disarm();
            }
        }
    }

    /// <summary>The error of a read that the watch stopped (<see cref="TimedOut"/>) after <paramref name="limit"/>.</summary>
    internal static BatonException IdleTimeout(TimeSpan limit, string provider) =>
        UpstreamErrors.StreamInterrupted(provider, $"no chunk arrived within {limit.TotalSeconds:0.###} s.");

    /// <summary>
    /// Starts watching a read that waits for the upstream: the timer is moved only if it would fire after this read's
    /// deadline. Called once the read is known to wait, so its deadline counts from then: a read completes
    /// synchronously only with data already received, which no timer could have cut short.
    /// </summary>
    internal void Arm(TimeSpan limit)
    {
        lock (_linked)
        {
            var now = _time.GetTimestamp();
            _reading = true;
            _readStarted = now;
            _readLimit = limit;
            if (_expired || (_armed && _armedFor - _time.GetElapsedTime(_armedAt, now) <= limit))
            {
                return;
            }
            _armed = Schedule(limit, now);
        }
    }

    /// <summary>
    /// Stops watching until the next read; the timer stays where it is and, if it fires before then, finds no
    /// read to watch. A watch that fired in the instant the chunk arrived has already cancelled the upstream
    /// read, and the next read reports the timeout it nearly was.
    /// </summary>
    internal void Disarm()
    {
        lock (_linked)
        {
            _reading = false;
        }
    }

    /// <summary>The timer fired: cancels a read past its deadline, or waits for the current read's deadline.</summary>
    private void OnWatch()
    {
        lock (_linked)
        {
            var now = _time.GetTimestamp();
            _armed = false;
            if (!_reading || _expired || Volatile.Read(ref _disposed) == 1)
            {
                return;
            }
            var left = _readLimit - _time.GetElapsedTime(_readStarted, now);
            if (left > TimeSpan.Zero)
            {
                _armed = Schedule(left, now);
                return;
            }
            Volatile.Write(ref _expired, true);
        }
        try
        {
            _linked.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The stream was disposed as the watch fired: there is nothing left to stop.
        }
    }

    /// <summary>Sets the timer (made on first use) to fire in <paramref name="due"/>; false when the stream is already disposed.</summary>
    private bool Schedule(TimeSpan due, long now)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return false;
        }
        _armedAt = now;
        _armedFor = due;
        try
        {
            _watch ??= CreateWatch(_time, this);
            return _watch.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The stream was disposed while this read was in flight: there is nothing left to watch.
            return false;
        }
    }

    /// <summary>
    /// The watch's timer. It keeps a reference to the caller's execution context, which its callback does not need
    /// but which costs nothing to hold until the stream is disposed; suppressing the flow instead would copy the
    /// context twice per stream (once to suppress, once to restore).
    /// </summary>
    private static ITimer CreateWatch(TimeProvider time, StartedStream stream) =>
        time.CreateTimer(static state => ((StartedStream)state!).OnWatch(), stream, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>Holds the deployment's rate-limit lease until the stream ends, then settles it with the reported usage.</summary>
    internal void Hold(RateLimitLease lease)
    {
        _lease = lease;
        lease.Limiter.Observe(_stream.UpstreamRateLimit);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _lease?.Complete(_stream.Usage, upstream: null);
        await Chunks.DisposeAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        ITimer? watch;
        // Under the lock: a read being armed either made its timer before this (disposed here) or sees the stream disposed.
        lock (_linked)
        {
            (watch, _watch) = (_watch, null);
        }
        watch?.Dispose();
        _linked.Dispose();
    }
}
