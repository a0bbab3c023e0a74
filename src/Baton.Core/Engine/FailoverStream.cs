using System.Runtime.CompilerServices;
using Baton.Accounting;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Requests;

namespace Baton.Engine;

/// <summary>
/// The chunks of one streamed answer, surviving a cut upstream. When a stream breaks (a reset, a truncated
/// body, an error event, silence past the idle timeout), the answer is resumed on the same deployment or
/// the next candidates: from scratch if no text had been delivered, otherwise by asking the model to
/// continue the delivered text. A half-streamed tool call cannot be resumed; then, or when no candidate
/// can resume, the caller gets a <c>stream_interrupted</c> error, never a silently truncated answer.
/// An answer read to its end is billed, and its observers told, by <see cref="EndAsync"/> (or on disposal): after the
/// reader has sent the end on, so that its client's last bytes wait for none of it.
/// </summary>
public sealed class FailoverStream : ChatStream
{
    internal const string ContinueInstruction =
        "Your previous answer was cut off. Continue it from exactly where it stopped: do not repeat anything, add no preamble.";

    private readonly AttemptRunner _attempts;
    private readonly CancellationToken _caller;
    private readonly StreamTextTap _tap = new();
    private StartedStream _current;
    private Candidate _candidate;
    private int _resumes;
    private ChatRequest? _resumedRequest;
    private int _segmentTextStart;
    private bool _segmentRecorded;
    private int _disposed;

    // Set when the upstream ended the answer: what EndAsync records, and the innermost of the observers it tells.
    private bool _readToEnd;
    private ObservingStream? _innermostObserver;
    private int _ended;

    /// <summary>Records each upstream stream in the ledger and settles the budget reservation; null without accounting.</summary>
    internal StreamBilling? Billing { get; init; }

    private RouteInfo _route;

    /// <param name="attempts">The request's attempts: a cut stream resumes through them, on the plan's next candidates.</param>
    /// <param name="first">The stream started on <paramref name="candidate"/>.</param>
    /// <param name="candidate">The deployment streaming now.</param>
    /// <param name="route">The route of the first stream.</param>
    /// <param name="caller">The caller's cancellation, for the resumed streams.</param>
    internal FailoverStream(AttemptRunner attempts, StartedStream first, Candidate candidate, RouteInfo route, CancellationToken caller)
    {
        _attempts = attempts;
        _current = first;
        _candidate = candidate;
        _route = route;
        _caller = caller;
    }

    /// <summary>The deployment answering now, the attempts so far, and whether the stream was resumed.</summary>
    public override RouteInfo Route => _route;

    /// <summary>
    /// What the answer billed: for a resumed stream, every upstream stream it used (Baton's count for one that
    /// reported nothing), so the usage matches the cost.
    /// </summary>
    public override TokenUsage? Usage => _resumes == 0 ? _current.Usage
        : _segmentRecorded ? BilledSoFar : BilledSoFar.Add(_current.Usage ?? default);

    /// <summary>Usage of the upstream streams already ended, without counts still running in the background.</summary>
    private TokenUsage BilledSoFar => _billed.IsCompletedSuccessfully ? _billed.Result : default;

    /// <summary>Usage billed by the upstream streams already ended.</summary>
    private Task<TokenUsage> _billed = NothingBilled;

    /// <summary>The sum before any segment ended: one completed task shared by every stream.</summary>
    private static readonly Task<TokenUsage> NothingBilled = Task.FromResult(default(TokenUsage));

    private static async Task<TokenUsage> AddAsync(Task<TokenUsage> first, Task<TokenUsage> second) =>
        (await first.ConfigureAwait(false)).Add(await second.ConfigureAwait(false));

    public override IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken) => new Reader(this, null, cancellationToken);

    internal override IAsyncEnumerable<StreamChunk> ReadObservedAsync(ObservingStream innermost, CancellationToken cancellationToken) =>
        new Reader(this, innermost, cancellationToken);

    /// <summary>
    /// The chunks, each handed to the observers (if any) before the reader gets it, and the stream's end or the error that
    /// broke it: this reader does what <see cref="ObservingStream"/>'s would, without an iterator of its own. Read once.
    /// </summary>
    /// <remarks>
    /// Its own enumerator rather than an async iterator, which would be a larger object per stream: a chunk already
    /// received is taken at once (<see cref="MoveNextAsync"/>), and only a read that waits for the upstream, or a cut
    /// that resumes the answer elsewhere, goes through an async method (<see cref="MoveNextAfterAsync"/>), whose state
    /// machine comes from a pool. The cancellation is the enumerator's when it has one, else the one given with the
    /// sequence. A failure (of a read, of a chunk's taking, or the caller's cancellation) is told to the observers once
    /// and ends the reading.
    /// </remarks>
    private sealed class Reader(FailoverStream stream, ObservingStream? innermost, CancellationToken cancellation)
        : IAsyncEnumerable<StreamChunk>, IAsyncEnumerator<StreamChunk>
    {
        private CancellationToken _cancellation = cancellation;
        private bool _enumerating;
        // The first chunk was read by the stream's start; each later one by a move.
        private bool _firstTaken;
        private bool _done;

        public StreamChunk Current { get; private set; }

        public IAsyncEnumerator<StreamChunk> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            OneReading.Begin(ref _enumerating, ref _cancellation, cancellationToken);
            return this;
        }

        public ValueTask<bool> MoveNextAsync()
        {
            if (_done)
            {
                return new ValueTask<bool>(false);
            }
            StreamChunk chunk;
            try
            {
                if (_firstTaken)
                {
                    _cancellation.ThrowIfCancellationRequested();
                    // StartedStream.MoveNextWithinAsync's steps, split: a chunk already received is taken here at once; a
                    // read that waits for the upstream (watched for the idle timeout), or that failed, goes on below.
                    ValueTask<bool> read;
                    try
                    {
                        read = stream._current.Chunks.MoveNextAsync();
                    }
                    catch (Exception error)
                    {
                        read = ValueTask.FromException<bool>(error);
                    }
                    if (!read.IsCompletedSuccessfully)
                    {
                        return MoveNextAfterAsync(read);
                    }
                    if (!read.Result)
                    {
                        return new ValueTask<bool>(End());
                    }
                }
                _firstTaken = true;
                chunk = stream._current.Chunks.Current;
                stream._tap.Observe(chunk);
                if (stream._resumes > 0 && chunk.IsUsageOnly)
                {
                    return TakeResumedUsageAsync(chunk);
                }
            }
            catch (Exception error)
            {
                return ValueTask.FromException<bool>(Failed(error));
            }
            return new ValueTask<bool>(Hand(chunk));
        }

        /// <summary>A move that waits for the upstream, or resumes the answer after <paramref name="read"/> failed.</summary>
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<bool> MoveNextAfterAsync(ValueTask<bool> read)
        {
            StreamChunk chunk;
            try
            {
                BatonException? failure = null;
                var hasChunk = false;
                var current = stream._current;
                var idle = stream._candidate.Deployment.Resilience.Settings.IdleTimeout;
                var armed = false;
                try
                {
                    if (!read.IsCompleted)
                    {
                        current.Arm(idle);
                        armed = true;
                    }
                    hasChunk = await read.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (current.TimedOut)
                {
                    failure = StartedStream.IdleTimeout(idle, stream._candidate.Deployment.Provider.Name);
                }
                catch (BatonException error)
                {
                    failure = error;
                }
                finally
                {
                    if (armed)
                    {
                        current.Disarm();
                    }
                }
                if (failure is not null)
                {
                    await stream.ResumeAsync(failure).ConfigureAwait(false);
                }
                else if (!hasChunk)
                {
                    return End();
                }
                chunk = stream._current.Chunks.Current;
                stream._tap.Observe(chunk);
            }
            catch (Exception error)
            {
                Failed(error);
                throw;
            }
            return stream._resumes > 0 && chunk.IsUsageOnly ? await TakeResumedUsageAsync(chunk).ConfigureAwait(false) : Hand(chunk);
        }

        /// <summary>
        /// The final usage chunk of a resumed answer reports what the last upstream stream used; the client is billed for
        /// all of them. The cut streams' counts ran in the background while the answer went on; they are done by now, or nearly.
        /// </summary>
        private async ValueTask<bool> TakeResumedUsageAsync(StreamChunk chunk)
        {
            try
            {
                var billed = await stream._billed.ConfigureAwait(false);
                chunk = new StreamChunk(UsageChunk.AddUsage(chunk.Json.Span, billed), IsUsageOnly: true);
            }
            catch (Exception error)
            {
                Failed(error);
                throw;
            }
            return Hand(chunk);
        }

        /// <summary>The chunk goes to the observers, then to the reader.</summary>
        private bool Hand(in StreamChunk chunk)
        {
            if (innermost is not null)
            {
                ObservingStream.Observe(innermost, chunk);
            }
            Current = chunk;
            return true;
        }

        /// <summary>
        /// The upstream ended the answer. Its ledger row, budget and observers' end are recorded by EndAsync, once the
        /// reader has sent what it read: its last bytes do not wait for them.
        /// </summary>
        private bool End()
        {
            stream._innermostObserver = innermost;
            stream._readToEnd = true;
            _done = true;
            return false;
        }

        /// <summary>A failure ends the reading, and the observers hear of it once.</summary>
        private Exception Failed(Exception error)
        {
            _done = true;
            if (innermost is not null)
            {
                ObservingStream.Fail(innermost, error);
            }
            return error;
        }

        public ValueTask DisposeAsync()
        {
            _done = true;
            return ValueTask.CompletedTask;
        }
    }

    private async Task ResumeAsync(BatonException failure)
    {
        var resumable = !_tap.HasToolCall && !_tap.HasFinished && _resumes < _attempts.Plan.Requested.Settings.MaxStreamResumes;
        _attempts.RecordInterruption(_candidate, failure, resumable);
        // The cut stream billed what it produced, whether or not the answer goes on elsewhere.
        await EndSegmentAsync(failure.UpstreamStatus ?? failure.StatusCode, final: !resumable).ConfigureAwait(false);
        if (!resumable)
        {
            throw failure;
        }
        // The broken upstream is of no further use: its connection and rate-limit slot go back before the next call.
        await _current.DisposeAsync().ConfigureAwait(false);
        var delivered = _tap.Text;
        var resumed = delivered.Length > 0
            ? ChatRequestRewriter.AppendMessages(_attempts.Request, [("assistant", delivered), ("user", ContinueInstruction)])
            : _attempts.Request;
        _resumes++;
        var started = _attempts.Time.GetTimestamp();
        StartedStream next;
        Candidate nextCandidate;
        try
        {
            next = await _attempts.ResumeStreamAsync(resumed, _caller).ConfigureAwait(false);
            (nextCandidate, var lease) = _attempts.Answered;
            next.Hold(lease);
        }
        catch (BatonException)
        {
            await EndSegmentAsync(failure.StatusCode, final: true).ConfigureAwait(false);
            throw failure;
        }
        var switched = !string.Equals(nextCandidate.Deployment.Id, _candidate.Deployment.Id, StringComparison.OrdinalIgnoreCase);
        _current = next;
        _candidate = nextCandidate;
        _resumedRequest = resumed;
        _segmentTextStart = _tap.TextLength;
        _segmentRecorded = false;
        var described = _attempts.Describe(nextCandidate, _route.UpstreamTime + _attempts.Time.GetElapsedTime(started),
            await nextCandidate.Deployment.RateLimiter.SnapshotAsync(_caller).ConfigureAwait(false));
        // Another deployment finishing what a failed one began is a fallback too.
        _route = described with { StreamResumed = true, Cache = _route.Cache, FallbackUsed = described.FallbackUsed || _route.FallbackUsed || switched };
    }

    /// <summary>Records the current upstream stream once, and on the last one settles the budget reservation.</summary>
    private async ValueTask EndSegmentAsync(int status, bool final)
    {
        // Without accounting, a segment's usage matters only to a resumed stream's whole usage (a segment cut and
        // resumed, or one after a resume); a stream never resumed is not counted for no one to read.
        if (!_segmentRecorded && (Billing is { Accounts: true } || _resumes > 0 || !final))
        {
            _segmentRecorded = true;
            // Every segment delivered at least a first chunk, so the upstream read the prompt and billed it; one
            // that reported no usage is counted from the prompt and what it delivered (tool-call arguments and
            // reasoning included), off the request's path.
            var segmentRequest = _resumedRequest ?? _attempts.Request;
            var usage = _current.Usage;
            // The delivered text is decoded only for a segment whose tokens Baton must count: a reported usage needs none.
            var segmentText = usage is { IsEmpty: false } ? "" : _tap.TextFrom(_segmentTextStart) + _tap.OtherOutputText;
            var continuation = _resumes > 0;
            var billed = Billing is { } billing
                ? billing.RecordSegment(segmentRequest, _candidate, Route, usage, segmentText, status, continuation)
                : StreamBilling.Billed(segmentRequest, _candidate, usage, segmentText);
            // The running sum is read only by a resumed stream (its usage, its final usage chunk): the last segment of
            // a stream never resumed adds nothing anyone reads, and skipping it saves the tasks of the sum.
            if (continuation || !final)
            {
                _billed = billed.IsCompletedSuccessfully && _billed.IsCompletedSuccessfully
                    ? Task.FromResult(_billed.Result.Add(billed.Result))
                    : AddAsync(_billed, billed.AsTask());
            }
        }
        if (final && Billing is not null)
        {
            await Billing.FinishAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A stream read to its end: its last segment billed (the budget settled), then the observers told, innermost
    /// first; once, whether the reader asks for it or disposes of the stream. Nothing for a stream not read to its end.
    /// </summary>
    public override async ValueTask EndAsync()
    {
        if (!_readToEnd || Interlocked.Exchange(ref _ended, 1) == 1)
        {
            return;
        }
        try
        {
            await EndSegmentAsync(200, final: true).ConfigureAwait(false);
        }
        catch (Exception error) when (_innermostObserver is not null)
        {
            ObservingStream.Fail(_innermostObserver, error);
            throw;
        }
        if (_innermostObserver is not null)
        {
            ObservingStream.Complete(_innermostObserver);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            // The upstream goes first: a reader that stopped early (the client went away) must not keep its connection
            // open. It still owes what the upstream produced so far, counted in the background if no usage came.
            await _current.DisposeAsync().ConfigureAwait(false);
            if (_readToEnd)
            {
                await EndAsync().ConfigureAwait(false);
            }
            else
            {
                await EndSegmentAsync(ClientClosedRequest, final: true).ConfigureAwait(false);
            }
        }
        finally
        {
            _tap.Dispose();
        }
    }

    /// <summary>The status recorded when the client stopped reading before the answer ended (nginx's convention).</summary>
    internal const int ClientClosedRequest = 499;
}
