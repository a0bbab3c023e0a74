using System.Text.Json;
using Baton.Accounting.Ledger;
using Baton.Errors;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>GET /v1/costs?session_id=&amp;model=&amp;key=&amp;user=&amp;tag=&amp;since=&amp;until=&amp;group_by=</c> (group by model, tier,
/// task, key, day, session, provider or deployment): totals and a breakdown from the ledger (seed 002's
/// <c>get_session_cost</c> and <c>get_breakdown</c>). Rows still queued are written first, so a caller sees the
/// requests it has just made.
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
        var report = await ledger.QueryAsync(query, http.RequestAborted);
        await http.Response.WriteAsJsonAsync(ToView(report), Json, http.RequestAborted);
    }

    public static CostReportView ToView(CostReport report) => new(
        "cost_report",
        report.Query.SessionId,
        report.Query.Since,
        report.Query.Until,
        report.Query.GroupBy.ToString().ToLowerInvariant(),
        ToView(report.Total),
        report.Breakdown.Select(g => new CostGroupView(g.Key, ToView(g.Totals))).ToList())
    {
        Model = report.Query.Model,
        Key = report.Query.Key,
        User = report.Query.User,
        Tag = report.Query.Tag,
    };

    private static CostTotalsView ToView(CostTotals t) =>
        new(t.CostUsd, t.Requests, t.PromptTokens, t.CachedTokens, t.CompletionTokens, t.ReasoningTokens)
        {
            Attempts = t.Attempts,
            CacheHits = t.CacheHits,
            CacheWriteTokens = t.CacheWriteTokens,
        };
}

/// <summary>The body of <c>GET /v1/costs</c>: the filters applied, the totals and the breakdown.</summary>
public sealed record CostReportView(
    string Object, string? SessionId, DateTimeOffset? Since, DateTimeOffset? Until, string GroupBy, CostTotalsView Total, IReadOnlyList<CostGroupView> Breakdown)
{
    public string? Model { get; init; }

    public string? Key { get; init; }

    public string? User { get; init; }

    public string? Tag { get; init; }
}

/// <summary>
/// Totals of some ledger rows: cost in US dollars; client requests (cache hits included, a resumed stream once),
/// billed upstream attempts and cache hits; and billed tokens (a cache hit's tokens are not billed again). The
/// token columns recompute the cost: uncached prompt tokens at the input price, cached ones at the cached price,
/// cache-written ones at the cache-write price, completion (reasoning included) at the output price.
/// </summary>
public sealed record CostTotalsView(decimal CostUsd, long Requests, long PromptTokens, long CachedTokens, long CompletionTokens, long ReasoningTokens)
{
    public long Attempts { get; init; }

    public long CacheHits { get; init; }

    public long CacheWriteTokens { get; init; }
}

/// <summary>One group of the breakdown.</summary>
public sealed record CostGroupView(string Key, CostTotalsView Totals);
