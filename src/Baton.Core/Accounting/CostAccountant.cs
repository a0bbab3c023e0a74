using System.Text.Json;
using Baton.Accounting.Budgets;
using Baton.Accounting.Ledger;
using Baton.Engine;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Requests;
using Baton.Routing;

namespace Baton.Accounting;

/// <summary>
/// What the engine calls for money: admission against budgets before the first upstream call, and a ledger
/// row (with its exact cost) for every upstream attempt that billed tokens and every cache hit. Recording only
/// queues the row; the <see cref="LedgerWriter"/> writes it in the background.
/// </summary>
public sealed class CostAccountant(PriceTable prices, TimeProvider time, LedgerWriter? ledger = null, BudgetGate? budgets = null)
{
    public PriceTable Prices => prices;

    /// <summary>The ledger's writer; null when the ledger is disabled.</summary>
    public LedgerWriter? Ledger => ledger;

    /// <summary>The budget gate; null when no budget is configured.</summary>
    public BudgetGate? Budgets => budgets;

    /// <summary>True when who asked matters: a ledger records it, or budgets are kept per key or user.</summary>
    public bool TracksCallers => ledger is not null || budgets is not null;

    /// <summary>
    /// Reserves the request's worst-case cost on the first deployment that will be asked (its prompt counted by
    /// tokenizer, its completion at <c>max_tokens</c>), or throws <c>budget_exceeded</c>.
    /// </summary>
    public ValueTask<BudgetAdmission> AdmitAsync(ChatRequest request, Deployment? first, CancellationToken cancellationToken)
    {
        if (budgets is null || !budgets.Policy.AppliesTo(request) || first is null)
        {
            return ValueTask.FromResult(BudgetAdmission.None);
        }
        var estimate = prices.For(first) is { } price
            ? CostCalculator.Estimate(PromptTokenCounter.CountPrompt(request), TokenEstimator.CompletionBudget(request, first.Parameters.MaxTokens), price)
            : 0m;
        return budgets.AdmitAsync(request, estimate, cancellationToken);
    }

    /// <summary>Queues the ledger row of one upstream attempt that billed <paramref name="usage"/>, and returns its cost.</summary>
    public decimal RecordAttempt(ChatRequest request, RouteInfo route, Deployment deployment, TokenUsage usage, TimeSpan latency,
        int status = 200, bool estimated = false)
    {
        var price = prices.For(deployment);
        var cost = price is null ? 0m : CostCalculator.Cost(usage, price);
        ledger?.TryRecord(Entry(request, route, usage, latency) with { CostUsd = cost, Priced = price is not null, Status = status, Estimated = estimated });
        return cost;
    }

    /// <summary>Queues the ledger row of an answer served from Baton's cache: its tokens, at no cost.</summary>
    public void RecordCacheHit(ChatRequest request, RouteInfo route, TokenUsage usage) =>
        ledger?.TryRecord(Entry(request, route, usage, route.UpstreamTime) with { Cached = true });

    /// <summary>
    /// Usage counted by Baton for an answer whose provider reported none: the prompt as sent, and the answer's text.
    /// </summary>
    public static TokenUsage EstimateUsage(ChatRequest request, string completionText, string upstreamModel) =>
        TokenUsage.Of(PromptTokenCounter.CountPrompt(request), PromptTokenCounter.Count(completionText, upstreamModel));

    /// <summary>The text of a <c>chat.completion</c> body's choices, for estimating an unreported completion.</summary>
    public static string CompletionText(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var text = new System.Text.StringBuilder();
            if (document.RootElement.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    if (choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var field in message.EnumerateObject())
                        {
                            if (field.Name != "role")
                            {
                                text.Append(field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString() : field.Value.GetRawText());
                            }
                        }
                    }
                }
            }
            return text.ToString();
        }
        catch (JsonException)
        {
            return "";
        }
    }

    private LedgerEntry Entry(ChatRequest request, RouteInfo route, TokenUsage usage, TimeSpan latency) => new()
    {
        Time = time.GetUtcNow(),
        Session = request.SessionId,
        ApiKey = request.ApiKeyId,
        User = request.User,
        Tags = request.Tags is { Count: > 0 } tags ? string.Join(',', tags) : null,
        Task = route.Task ?? request.Task,
        Tier = route.Tier,
        Model = route.Model,
        Deployment = route.Deployment,
        Usage = usage,
        CostUsd = 0,
        LatencyMs = latency.TotalMilliseconds,
        Fallback = route.FallbackUsed,
    };
}
