using Baton.Accounting;
using Baton.Accounting.Budgets;
using Baton.Providers;
using Baton.Requests;

namespace Baton.Engine;

/// <summary>
/// The money side of one streamed answer. Each upstream stream it used (the first, and any that resumed it)
/// is one ledger row when it ends: with the usage the stream reported, or, when it reported none (a cut
/// stream, a provider that sends no usage), with tokens Baton counted from the prompt and the text that
/// segment delivered, flagged as estimated. When the answer is over, the budget reservation is settled with
/// the sum.
/// </summary>
internal sealed class StreamBilling(CostAccountant? accounting, BudgetAdmission admission, TimeProvider time, long started)
{
    private decimal _cost;
    private int _finished;

    /// <summary>The answer's total cost so far; final once the stream has ended.</summary>
    public decimal? Cost => accounting is null ? null : _cost;

    public IReadOnlyList<string> BudgetWarnings => admission.Warnings;

    /// <param name="segmentRequest">The request this upstream stream answered (a resumed one asks to continue).</param>
    /// <param name="candidate">The deployment that streamed it.</param>
    /// <param name="route">The answer's route.</param>
    /// <param name="billed">The usage the upstream reported, or the usage Baton counted when it reported none.</param>
    /// <param name="estimated">True when Baton counted the usage.</param>
    /// <param name="status">200, or the status the segment ended with.</param>
    /// <param name="continuation">True for every segment after the first: the same client request, another billed attempt.</param>
    public void RecordSegment(ChatRequest segmentRequest, Candidate candidate, RouteInfo route, TokenUsage billed, bool estimated, int status, bool continuation)
    {
        if (accounting is null)
        {
            return;
        }
        _cost += accounting.RecordAttempt(segmentRequest, route, candidate.Deployment, billed, time.GetElapsedTime(started), status, estimated, continuation);
    }

    public async ValueTask FinishAsync()
    {
        if (Interlocked.Exchange(ref _finished, 1) == 0)
        {
            await admission.SettleAsync(_cost).ConfigureAwait(false);
        }
    }
}
