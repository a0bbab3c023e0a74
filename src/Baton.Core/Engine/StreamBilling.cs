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

    public void RecordSegment(ChatRequest segmentRequest, Candidate candidate, RouteInfo route, TokenUsage? usage, string segmentText, int status)
    {
        if (accounting is null)
        {
            return;
        }
        // Every segment delivered at least a first chunk, so the upstream read the prompt and billed it.
        var reported = usage is { IsEmpty: false };
        var billed = reported ? usage!.Value : CostAccountant.EstimateUsage(segmentRequest, segmentText, candidate.Deployment.UpstreamModel);
        _cost += accounting.RecordAttempt(segmentRequest, route, candidate.Deployment, billed, time.GetElapsedTime(started), status, estimated: !reported);
    }

    public async ValueTask FinishAsync()
    {
        if (Interlocked.Exchange(ref _finished, 1) == 0)
        {
            await admission.SettleAsync(_cost).ConfigureAwait(false);
        }
    }
}
