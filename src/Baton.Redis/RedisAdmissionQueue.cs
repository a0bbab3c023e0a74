using Baton.Admission;
using Baton.Errors;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// Coalesces the admissions that arrive while Redis is busy with earlier ones. An admission that finds fewer than
/// <see cref="MaxInFlight"/> scripts in flight is sent at once, alone (no added wait: a lightly loaded gateway pipelines
/// its admissions as before); those that arrive while that many are in flight queue, and when one of the scripts
/// answers they go together, in arrival order, as one script (at most <see cref="MaxPerScript"/>). Redis still decides each one, one
/// after another inside that script, exactly as if each had been a script of its own sent in that order: nothing is
/// decided from a gateway's own state, so limits, leases and budgets stay as exact across gateways as before. What is
/// saved is the per-command work on both sides (a command, its reply and its timeout per request rather than per batch).
/// No admission waits on Redis longer than <c>redis.timeoutMs</c> from its arrival: one that has waited that long in the
/// queue is not sent, and takes the fail mode (it took nothing in Redis); a batch gets what its oldest member has left.
/// </summary>
internal sealed class RedisAdmissionQueue
{
    /// <summary>The most admissions one script decides: Redis runs nothing else while a script runs.</summary>
    internal const int MaxPerScript = 64;

    /// <summary>
    /// Scripts in flight before admissions queue. One alone serialised the gateway behind each round trip on a loaded
    /// machine (every reply has to be picked up by a thread before the next batch goes); a few keep the pipe busy.
    /// </summary>
    internal const int MaxInFlight = 4;

    private const string Operation = "admission";

    private static readonly Func<ValueTask<RedisResult?>> NoReply = static () => ValueTask.FromResult<RedisResult?>(null);
    private static readonly Func<ValueTask<AdmissionResult?>> NoResult = static () => ValueTask.FromResult<AdmissionResult?>(null);

    private readonly RedisConnection _redis;
    private readonly Func<IDatabase, IReadOnlyList<AdmissionRequest>, Task<RedisResult?>> _evaluate;
    private readonly Func<IReadOnlyList<AdmissionRequest>, RedisResult, AdmissionResult[]> _read;
    private readonly Action<IReadOnlyList<AdmissionRequest>, RedisResult> _abandon;
    private readonly Lock _gate = new();
    private List<Waiter> _queued = [];
    private int _inFlight;
    private long _sent;

    /// <summary>
    /// Admissions on <paramref name="redis"/>: <paramref name="evaluate"/> sends a batch in one script and
    /// <paramref name="read"/> reads its reply, one result per admission in order; <paramref name="abandon"/> gives back
    /// what a reply granted to admissions whose callers are gone (they gave up or timed out before it came).
    /// </summary>
    public RedisAdmissionQueue(
        RedisConnection redis,
        Func<IDatabase, IReadOnlyList<AdmissionRequest>, Task<RedisResult?>> evaluate,
        Func<IReadOnlyList<AdmissionRequest>, RedisResult, AdmissionResult[]> read,
        Action<IReadOnlyList<AdmissionRequest>, RedisResult> abandon)
    {
        _redis = redis;
        _evaluate = evaluate;
        _read = read;
        _abandon = abandon;
    }

    /// <summary>Scripts sent since start (each carrying one or more admissions).</summary>
    public long ScriptsSent => Interlocked.Read(ref _sent);

    /// <summary>Admits <paramref name="request"/>: null when Redis is unavailable and fail mode <c>local</c> applies.</summary>
    public async ValueTask<AdmissionResult?> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        Waiter? waiter = null;
        lock (_gate)
        {
            if (_inFlight >= MaxInFlight)
            {
                waiter = new Waiter(request, TimeProvider.System.GetTimestamp(), cancellationToken);
                _queued.Add(waiter);
            }
            else
            {
                _inFlight++;
            }
        }
        if (waiter is not null)
        {
            return await waiter.Task.ConfigureAwait(false);
        }
        try
        {
            // Nothing in flight: this admission goes at once, on its own, as it always did.
            AdmissionRequest[] one = [request];
            Interlocked.Increment(ref _sent);
            Task<RedisResult?>? sent = null;
            RedisResult? reply;
            try
            {
                reply = await _redis.RunAsync(Operation, db => sent = _evaluate(db, one), NoReply, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The caller gave up (or fail mode closed refused it) while the script was on its way.
                AbandonWhenAnswered(sent, one);
                throw;
            }
            if (reply is null)
            {
                // Fail mode local: the script did not answer in time, but may still run.
                AbandonWhenAnswered(sent, one);
                return null;
            }
            return _read(one, reply)[0];
        }
        finally
        {
            SendQueued();
        }
    }

    /// <summary>When a script ends: sends what queued meanwhile in its place, or notes that one fewer is in flight.</summary>
    private void SendQueued()
    {
        List<Waiter> batch;
        lock (_gate)
        {
            if (_queued.Count == 0)
            {
                _inFlight--;
                return;
            }
            if (_queued.Count <= MaxPerScript)
            {
                batch = _queued;
                _queued = [];
            }
            else
            {
                batch = _queued.GetRange(0, MaxPerScript);
                _queued.RemoveRange(0, MaxPerScript);
            }
        }
        _ = SendAsync(batch);
    }

    private async Task SendAsync(List<Waiter> batch)
    {
        try
        {
            var now = TimeProvider.System.GetTimestamp();
            var live = new List<Waiter>(batch.Count);
            foreach (var waiter in batch)
            {
                if (waiter.Cancellation.IsCancellationRequested)
                {
                    waiter.TrySetCanceled(waiter.Cancellation);
                }
                else if (TimeProvider.System.GetElapsedTime(waiter.Queued, now) >= _redis.Timeout)
                {
                    // Queued behind a script that took the whole timeout: sent now, it would wait longer than allowed.
                    await FallBackAsync(waiter, new TimeoutException("The admission waited redis.timeoutMs behind an earlier one.")).ConfigureAwait(false);
                }
                else
                {
                    live.Add(waiter);
                }
            }
            if (live.Count == 0)
            {
                return;
            }
            var requests = live.ConvertAll(w => w.Request);
            // The oldest member has waited the longest: the batch gets what it has left of the timeout.
            var left = _redis.Timeout - TimeProvider.System.GetElapsedTime(live[0].Queued);
            Interlocked.Increment(ref _sent);
            RedisResult? reply;
            Task<RedisResult?>? sent = null;
            try
            {
                reply = await _redis.RunAsync(Operation, db => sent = _evaluate(db, requests), NoReply, CancellationToken.None,
                    left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1)).ConfigureAwait(false);
            }
            catch (BatonException closed)
            {
                AbandonWhenAnswered(sent, requests);
                // Fail mode closed: the connection counted and refused the first; each other is counted and refused too.
                live[0].TrySetException(closed);
                for (var i = 1; i < live.Count; i++)
                {
                    await FallBackAsync(live[i], null).ConfigureAwait(false);
                }
                return;
            }
            if (reply is null)
            {
                AbandonWhenAnswered(sent, requests);
                // Fail mode local, counted once by the connection: once more for each other admission of the batch.
                live[0].TrySetResult(null);
                for (var i = 1; i < live.Count; i++)
                {
                    await FallBackAsync(live[i], null).ConfigureAwait(false);
                }
                return;
            }
            var results = _read(requests, reply);
            for (var i = 0; i < live.Count; i++)
            {
                live[i].TrySetResult(results[i]);
            }
        }
        catch (Exception error)
        {
            foreach (var waiter in batch)
            {
                waiter.TrySetException(error);
            }
        }
        finally
        {
            SendQueued();
        }
    }

    /// <summary>
    /// For admissions whose callers stopped waiting while their script was on its way (cancelled, or past the
    /// timeout): when the script answers after all, what it granted them is given back (their calls-in-flight leases
    /// at once, rather than when they expire), since nobody will use or release it.
    /// </summary>
    private void AbandonWhenAnswered(Task<RedisResult?>? sent, IReadOnlyList<AdmissionRequest> requests)
    {
        if (sent is null)
        {
            // Never sent (Redis disconnected): nothing was taken.
            return;
        }
        _ = sent.ContinueWith(
            static (answered, state) =>
            {
                var (queue, requests) = ((RedisAdmissionQueue, IReadOnlyList<AdmissionRequest>))state!;
                if (answered.IsCompletedSuccessfully && answered.Result is { } reply)
                {
                    queue._abandon(requests, reply);
                }
                else
                {
                    // Observed, so that a script that failed after its caller left is not an unobserved task exception.
                    _ = answered.Exception;
                }
            },
            (this, requests),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async ValueTask FallBackAsync(Waiter waiter, Exception? error)
    {
        try
        {
            waiter.TrySetResult(await _redis.FallBackAsync(Operation, error, NoResult).ConfigureAwait(false));
        }
        catch (BatonException closed)
        {
            waiter.TrySetException(closed);
        }
    }

    /// <summary>An admission waiting in the queue; its continuation runs on the thread pool, not on the batch's thread.</summary>
    private sealed class Waiter(AdmissionRequest request, long queued, CancellationToken cancellation)
        : TaskCompletionSource<AdmissionResult?>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public AdmissionRequest Request => request;

        public CancellationToken Cancellation => cancellation;

        /// <summary>When it queued (<see cref="TimeProvider.GetTimestamp"/> of the real clock: a network wait).</summary>
        public long Queued => queued;
    }
}
