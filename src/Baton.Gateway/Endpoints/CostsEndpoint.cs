using System.Text.Json;
using Baton.Accounting.Ledger;
using Baton.Errors;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>GET /v1/costs?session_id=&amp;since=&amp;until=&amp;group_by=model|tier|task|key|day</c>: totals and a breakdown
/// from the ledger (seed 002's <c>get_session_cost</c> and <c>get_breakdown</c>). Rows still queued are written
/// first, so a caller sees the requests it has just made.
/// </summary>
internal static class CostsEndpoint
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task HandleAsync(HttpContext http, IServiceProvider services)
    {
        CostQuery query;
        try
        {
            query = CostQueryParser.Parse(http.Request.Query.Select(p =>
                new KeyValuePair<string, IReadOnlyList<string?>>(p.Key, p.Value.ToArray())));
        }
        catch (BatonException ex)
        {
            await ErrorResponses.WriteAsync(http, ex);
            return;
        }
        if (services.GetService(typeof(LedgerWriter)) is not LedgerWriter ledger)
        {
            await ErrorResponses.WriteAsync(http, new BatonException(StatusCodes.Status404NotFound, ErrorTypes.InvalidRequest,
                "Cost tracking is disabled on this gateway (ledger.enabled is false).", code: "ledger_disabled"));
            return;
        }
        // A virtual key sees its own spending only; the master key (and a gateway without keys) sees everything.
        if (GatewayAuth.VisibleOwner(http) is { } owner)
        {
            query = query with { ApiKey = owner };
        }
        await ledger.FlushAsync(http.RequestAborted);
        var report = LedgerQuery.Run(ledger.Path, query);
        await http.Response.WriteAsJsonAsync(ToView(report), Json, http.RequestAborted);
    }

    public static CostReportView ToView(CostReport report) => new(
        "cost_report",
        report.Query.SessionId,
        report.Query.Since,
        report.Query.Until,
        report.Query.GroupBy.ToString().ToLowerInvariant(),
        ToView(report.Total),
        report.Breakdown.Select(g => new CostGroupView(g.Key, ToView(g.Totals))).ToList());

    private static CostTotalsView ToView(CostTotals t) =>
        new(t.CostUsd, t.Requests, t.PromptTokens, t.CachedTokens, t.CompletionTokens, t.ReasoningTokens);
}

/// <summary>The body of <c>GET /v1/costs</c>.</summary>
public sealed record CostReportView(
    string Object, string? SessionId, DateTimeOffset? Since, DateTimeOffset? Until, string GroupBy, CostTotalsView Total, IReadOnlyList<CostGroupView> Breakdown);

/// <summary>Totals of some ledger rows: cost in US dollars, upstream calls and cache hits, and tokens.</summary>
public sealed record CostTotalsView(decimal CostUsd, long Requests, long PromptTokens, long CachedTokens, long CompletionTokens, long ReasoningTokens);

/// <summary>One group of the breakdown.</summary>
public sealed record CostGroupView(string Key, CostTotalsView Totals);
