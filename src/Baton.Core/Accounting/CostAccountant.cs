using Baton.Accounting.Budgets;
using Baton.Accounting.Ledger;
using Baton.Engine;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Requests;
using Baton.Routing;

namespace Baton.Accounting;

/// <summary>
/// What the engine calls for money: admission against budgets before the first upstream call, and a ledger
/// row (with its exact cost) for every upstream attempt that billed tokens and every cache hit. Recording only
/// queues the row; the <see cref="LedgerWriter"/> writes it in the background. An attempt whose provider
/// reported no usage is counted by Baton, for a stream off the request's path (see <see cref="RecordCountedAttemptAsync"/>).
/// </summary>
public sealed class CostAccountant(PriceTable prices, TimeProvider time, LedgerWriter? ledger = null, BudgetGate? budgets = null) : IDisposable
{
    private readonly UsageCounter _counter = new();

    public PriceTable Prices => prices;

    /// <summary>The ledger's writer; null when the ledger is disabled.</summary>
    public LedgerWriter? Ledger => ledger;

    /// <summary>The budget gate; null when no budget is configured.</summary>
    public BudgetGate? Budgets => budgets;

    /// <summary>True when who asked matters: a ledger records it, or budgets are kept per key or user.</summary>
    public bool TracksCallers => ledger is not null || budgets is not null;

    /// <summary>How deployments without a price are estimated and billed under budgets.</summary>
    public UnpricedPolicy Unpriced { get; init; } = UnpricedPolicy.Refuse;

    /// <summary>
    /// Reserves the request's worst-case cost (its prompt counted by tokenizer, its completion at <c>max_tokens</c>)
    /// at the dearest of the deployments it may reach, first choice and fallbacks alike, or throws
    /// <c>budget_exceeded</c>. A deployment without a price is refused (<c>unpriced_deployment</c>) or estimated
    /// at the configured default price, as <see cref="Unpriced"/> says.
    /// </summary>
    public ValueTask<BudgetAdmission> AdmitAsync(ChatRequest request, IReadOnlyList<Deployment> candidates, CancellationToken cancellationToken) =>
        Estimate(request, candidates, cancellationToken) is { } estimate
            ? budgets!.AdmitAsync(request, estimate, cancellationToken)
            : ValueTask.FromResult(BudgetAdmission.None);

    /// <summary>
    /// True when a budget may apply to the request (one is configured, or its key has one): only then does its
    /// admission need the deployments it may reach, so a caller without budgets builds no list of them.
    /// </summary>
    internal bool BudgetsMayApplyTo(ChatRequest request) => budgets is not null && budgets.Policy.AppliesTo(request);

    /// <summary>The worst-case cost <see cref="AdmitAsync(ChatRequest, IReadOnlyList{Deployment}, CancellationToken)"/> reserves; null when no budget applies.</summary>
    internal decimal? Estimate(ChatRequest request, IReadOnlyList<Deployment> candidates, CancellationToken cancellationToken)
    {
        if (!BudgetsMayApplyTo(request) || candidates.Count == 0 || budgets!.Policy.For(request, time.GetUtcNow()).Count == 0)
        {
            return null;
        }
        var prompt = PromptTokenCounter.CountPrompt(request, cancellationToken);
        var estimate = 0m;
        foreach (var deployment in candidates)
        {
            var price = PriceOf(deployment) ?? throw UnpricedRefused(deployment);
            estimate = Math.Max(estimate, CostCalculator.Estimate(prompt, TokenEstimator.CompletionBudget(request, deployment.Parameters.MaxTokens), price));
        }
        return estimate;
    }

    /// <summary>Reserves the request's worst-case cost on <paramref name="first"/> alone.</summary>
    public ValueTask<BudgetAdmission> AdmitAsync(ChatRequest request, Deployment? first, CancellationToken cancellationToken) =>
        AdmitAsync(request, first is null ? [] : [first], cancellationToken);

    /// <summary>Queues the ledger row of one upstream attempt that billed <paramref name="usage"/>, and returns its cost.</summary>
    /// <param name="request">The request the attempt answered.</param>
    /// <param name="route">The answer's route.</param>
    /// <param name="deployment">The deployment that answered.</param>
    /// <param name="usage">What it billed.</param>
    /// <param name="latency">How long it took.</param>
    /// <param name="status">200, or the status a cut stream ended with.</param>
    /// <param name="estimated">True when Baton counted the usage because the provider reported none.</param>
    /// <param name="continuation">True when the attempt continues a request already recorded (a resumed stream).</param>
    public decimal RecordAttempt(ChatRequest request, RouteInfo route, Deployment deployment, TokenUsage usage, TimeSpan latency,
        int status = 200, bool estimated = false, bool continuation = false)
    {
        var known = prices.For(deployment);
        // An unpriced deployment admitted at the default price is billed at it too, or its budget would never fill.
        var price = known ?? (budgets is null ? null : Unpriced.DefaultPrice);
        var cost = price is null ? 0m : CostCalculator.Cost(usage, price);
        if (ledger is not null)
        {
            Record(request, Entry(request, route, usage, latency, cost, priced: known is not null, status, estimated, continuation, cached: false));
        }
        return cost;
    }

    private ModelPrice? PriceOf(Deployment deployment) => prices.For(deployment) ?? Unpriced.DefaultPrice;

    private static BatonException UnpricedRefused(Deployment deployment) => new(400, ErrorTypes.InvalidRequest,
        $"A budget applies to this request, and the deployment '{deployment.Id}' it may reach has no price, so its cost cannot be kept " +
        "within the budget. Configure a price for it under 'prices', or set budgets.unpriced to 'estimate' with a budgets.defaultPrice.",
        "model", "unpriced_deployment");

    /// <summary>
    /// Queues the ledger row of an upstream attempt whose provider reported no usage (a stream without a usage chunk,
    /// a cut stream, a client that left) once Baton has counted its tokens, and returns its cost. The count runs in
    /// the background, so neither the request nor the upstream connection waits for it; flushing the ledger does.
    /// After <see cref="StopCounting"/>, the row holds a rough estimate instead. The row is flagged as estimated.
    /// </summary>
    public Task<CountedAttempt> RecordCountedAttemptAsync(ChatRequest request, RouteInfo route, Deployment deployment, string completionText,
        TimeSpan latency, int status, bool continuation = false)
    {
        var recorded = RecordWhenCountedAsync(request, route, deployment, completionText, latency, status, continuation);
        ledger?.Track(recorded);
        return recorded;
    }

    private async Task<CountedAttempt> RecordWhenCountedAsync(ChatRequest request, RouteInfo route, Deployment deployment, string completionText,
        TimeSpan latency, int status, bool continuation)
    {
        var usage = await _counter.CountAsync(request, completionText, deployment.UpstreamModel).ConfigureAwait(false);
        return new(usage, RecordAttempt(request, route, deployment, usage, latency, status, estimated: true, continuation));
    }

    /// <summary>
    /// Cuts counts in the background short (called when the host begins to stop): the rows of counts still running,
    /// and of later ones, hold a rough estimate of four characters a token, so shutdown never waits for a count.
    /// </summary>
    public void StopCounting() => _counter.Stop();

    /// <summary>Queues the ledger row of an answer served from Baton's cache: its tokens, at no cost.</summary>
    public void RecordCacheHit(ChatRequest request, RouteInfo route, TokenUsage usage)
    {
        if (ledger is not null)
        {
            Record(request, Entry(request, route, usage, route.UpstreamTime, 0m, priced: true, status: 200, estimated: false, continuation: false, cached: true));
        }
    }

    private void Record(ChatRequest request, LedgerEntry entry)
    {
        if (request.LedgerRows is { } rows)
        {
            rows.Enqueue(entry);
        }
        else
        {
            ledger!.TryRecord(entry);
        }
    }

    /// <summary>
    /// Usage counted by Baton for an answer whose provider reported none: the prompt as sent, and the answer's text.
    /// A count cancelled by <paramref name="cancellationToken"/> gives a rough estimate (four characters a token).
    /// </summary>
    public static TokenUsage EstimateUsage(ChatRequest request, string completionText, string upstreamModel, CancellationToken cancellationToken = default) =>
        UsageCounter.Count(request, completionText, upstreamModel, cancellationToken);

    /// <summary>
    /// The text of a <c>chat.completion</c> body's choices, for estimating an unreported completion: every field of each
    /// choice's message but its role. Empty for a body that is not JSON.
    /// </summary>
    public static string CompletionText(ReadOnlyMemory<byte> body) => Providers.OpenAi.CompletionFacts.ReadOrNone(body).Text;

    /// <summary>A ledger row, built in one allocation (every answer makes one).</summary>
    private LedgerEntry Entry(ChatRequest request, RouteInfo route, TokenUsage usage, TimeSpan latency, decimal cost, bool priced, int status,
        bool estimated, bool continuation, bool cached)
    {
        var now = time.GetUtcNow();
        return new()
        {
            Time = now,
            // Time-ordered (version 7): the ledgers' unique index on attempt ids then grows at its end, instead of a
            // random page of a large index being read and rewritten for every row.
            AttemptId = UniqueIds.TimeOrdered(now),
            Session = request.SessionId,
            ApiKey = request.ApiKeyId,
            User = request.User,
            Project = request.ProjectId,
            Tags = request.Tags is { Count: > 0 } tags ? string.Join(',', tags) : null,
            Task = route.Task ?? request.Task,
            Tier = route.Tier,
            Model = route.Model,
            Deployment = route.Deployment,
            Usage = usage,
            CostUsd = cost,
            Priced = priced,
            LatencyMs = latency.TotalMilliseconds,
            Cached = cached,
            Fallback = route.FallbackUsed,
            Status = status,
            Estimated = estimated,
            Continuation = continuation,
        };
    }

    /// <summary>Stops counting in the background, as <see cref="StopCounting"/> does.</summary>
    public void Dispose() => _counter.Dispose();
}

/// <summary>The usage Baton counted for an attempt whose provider reported none, and what it was billed.</summary>
public readonly record struct CountedAttempt(TokenUsage Usage, decimal Cost);
