using Baton.Accounting;
using Baton.Accounting.Budgets;
using Baton.Providers;
using Baton.Requests;
using Microsoft.Extensions.Logging;

namespace Baton.Engine;

/// <summary>
/// The money side of one streamed answer. Each upstream stream it used (the first, and any that resumed it)
/// is one ledger row when it ends: with the usage the stream reported, or, when it reported none (a cut
/// stream, a provider that sends no usage, a client that left), with tokens Baton counted from the prompt and
/// the text that segment delivered, flagged as estimated. Those counts run in the background (see
/// <see cref="CostAccountant.RecordCountedAttemptAsync"/>): the stream ends, and its upstream is released,
/// without waiting for them. When the answer is over, the budget reservation is settled with the sum, as soon
/// as the counts are done.
/// </summary>
internal sealed partial class StreamBilling(CostAccountant? accounting, BudgetAdmission admission, TimeProvider time, long started, ILogger logger)
{
    private decimal _reported;
    private Task<decimal> _counted = NothingCounted;
    private int _finished;

    /// <summary>The cost of the segments billed so far, without those Baton is still counting; see <see cref="GetCostAsync"/>.</summary>
    public decimal? Cost => accounting is null ? null : _reported + (_counted.IsCompletedSuccessfully ? _counted.Result : 0m);

    public IReadOnlyList<string> BudgetWarnings => admission.Warnings;

    /// <summary>The sum before any segment was counted: one completed task shared by every stream.</summary>
    private static readonly Task<decimal> NothingCounted = Task.FromResult(0m);

    /// <summary>Whether anything is billed: without accounting, a segment's usage matters only to a resumed stream.</summary>
    public bool Accounts => accounting is not null;

    /// <summary>
    /// Records one upstream stream: with the usage it reported, or, when it reported none, with the usage Baton
    /// counts in the background from the prompt and <paramref name="segmentText"/>. Returns the usage billed (a
    /// value task: a reported usage is returned as it is, without a task to hold it).
    /// </summary>
    /// <param name="segmentRequest">The request this upstream stream answered (a resumed one asks to continue).</param>
    /// <param name="candidate">The deployment that streamed it.</param>
    /// <param name="route">The answer's route.</param>
    /// <param name="usage">The usage the upstream reported, if any.</param>
    /// <param name="segmentText">What the segment delivered (text, tool calls, reasoning), counted when no usage came.</param>
    /// <param name="status">200, or the status the segment ended with.</param>
    /// <param name="continuation">True for every segment after the first: the same client request, another billed attempt.</param>
    public ValueTask<TokenUsage> RecordSegment(ChatRequest segmentRequest, Candidate candidate, RouteInfo route, TokenUsage? usage, string segmentText, int status, bool continuation)
    {
        if (accounting is null)
        {
            return Billed(segmentRequest, candidate, usage, segmentText);
        }
        // Every segment delivered at least a first chunk, so the upstream read the prompt and billed it.
        var latency = time.GetElapsedTime(started);
        if (usage is { IsEmpty: false } reported)
        {
            _reported += accounting.RecordAttempt(segmentRequest, route, candidate.Deployment, reported, latency, status, estimated: false, continuation);
            return ValueTask.FromResult(reported);
        }
        var counted = accounting.RecordCountedAttemptAsync(segmentRequest, route, candidate.Deployment, segmentText, latency, status, continuation);
        _counted = AddAsync(_counted, counted);
        return new ValueTask<TokenUsage>(UsageOfAsync(counted));
    }

    private static async Task<decimal> AddAsync(Task<decimal> first, Task<CountedAttempt> second) =>
        await first.ConfigureAwait(false) + (await second.ConfigureAwait(false)).Cost;

    /// <summary>The usage of a segment when nothing is accounted: reported, or counted off the request's path.</summary>
    internal static ValueTask<TokenUsage> Billed(ChatRequest segmentRequest, Candidate candidate, TokenUsage? usage, string segmentText) =>
        usage is { IsEmpty: false } reported ? ValueTask.FromResult(reported)
            : new ValueTask<TokenUsage>(Task.Run(() => CostAccountant.EstimateUsage(segmentRequest, segmentText, candidate.Deployment.UpstreamModel)));

    private static async Task<TokenUsage> UsageOfAsync(Task<CountedAttempt> counted) => (await counted.ConfigureAwait(false)).Usage;

    /// <summary>The answer's total cost once the stream has ended, waiting for the segments Baton is counting.</summary>
    public async ValueTask<decimal?> GetCostAsync(CancellationToken cancellationToken)
    {
        if (accounting is null)
        {
            return null;
        }
        return _reported + await _counted.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Settles the budget reservation: at once when every segment's cost is known, otherwise in the background once it is.</summary>
    public ValueTask FinishAsync()
    {
        if (Interlocked.Exchange(ref _finished, 1) == 1)
        {
            return ValueTask.CompletedTask;
        }
        if (_counted.IsCompletedSuccessfully)
        {
            return admission.SettleAsync(_reported + _counted.Result);
        }
        _ = SettleWhenCountedAsync();
        return ValueTask.CompletedTask;
    }

    private async Task SettleWhenCountedAsync()
    {
        try
        {
            await admission.SettleAsync(_reported + await _counted.ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Nobody awaits this: a failure must at least be seen. The reservation then lapses as an abandoned one does.
            Log.SettleFailed(logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Settling the budget of a streamed answer failed")]
        public static partial void SettleFailed(ILogger logger, Exception exception);
    }
}
