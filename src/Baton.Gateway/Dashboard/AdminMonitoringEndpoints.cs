using System.Globalization;
using System.Text.Json;
using Baton.Accounting;
using Baton.Accounting.Budgets;
using Baton.Auth;
using Baton.Batching.Jobs;
using Baton.Configuration;
using Baton.Errors;
using Baton.Gateway.Endpoints;
using Baton.Monitoring;
using Baton.Resilience;
using Baton.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Dashboard;

/// <summary>
/// The admin API behind the dashboard, for the master key only: traffic figures and the last requests from the
/// <see cref="RequestRecorder"/>, and the live state of deployments, budgets, the response cache and batch jobs
/// read from the same places as <c>/health/providers</c>, <c>/admin/keys</c>, <c>/v1/cache/stats</c> and
/// <c>/v1/batches</c>.
/// </summary>
internal static class AdminMonitoringEndpoints
{
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary><c>GET /admin/stats?minutes=N</c>: the traffic of the last N minutes (1 to 60, default 60).</summary>
    public static IResult Stats(HttpContext http, RequestRecorder recorder)
    {
        var minutes = Number(http, "minutes", RequestRecorder.WindowMinutes, 1, RequestRecorder.WindowMinutes);
        return Results.Json(recorder.Snapshot(minutes), Json);
    }

    /// <summary><c>GET /admin/requests?limit=N</c>: the last N requests (default 50), newest first.</summary>
    public static IResult Requests(HttpContext http, RequestRecorder recorder)
    {
        var limit = Number(http, "limit", 50, 1, recorder.RecentCapacity);
        return Results.Json(new RecentRequestsView("list", recorder.Recent(limit).Select(RecentRequestView.From).ToList()), Json);
    }

    /// <summary><c>GET /admin/deployments</c>: every deployment's health, breaker and rate-limit headroom.</summary>
    public static async Task<IResult> DeploymentsAsync(HttpContext http, HealthReport health, ModelCatalog catalog)
    {
        var reports = await health.CheckAsync(probe: false, http.RequestAborted);
        var limiters = catalog.Deployments.ToDictionary(d => d.Id, d => d.RateLimiter, StringComparer.OrdinalIgnoreCase);
        var views = new List<DeploymentStateView>(reports.Count);
        foreach (var report in reports)
        {
            var limiter = limiters[report.Deployment];
            views.Add(View(report, limiter, await limiter.SnapshotAsync(http.RequestAborted).ConfigureAwait(false)));
        }
        return Results.Json(new DeploymentsView(HealthReport.Overall(reports), views), Json);
    }

    /// <summary>
    /// <c>GET /admin/budgets</c>: each budget counter in its current window. Global limits and limits with a
    /// <c>match</c> have one counter; key limits have one per virtual key and per key seen in the last hour; a
    /// virtual key's own budget is listed under its key. Session, user and tag limits without <c>match</c> keep a
    /// counter per subject that only the requests name: their spending is in <c>/v1/costs</c>.
    /// </summary>
    public static async Task<IResult> BudgetsAsync(HttpContext http, RequestRecorder recorder, TimeProvider time)
    {
        var gate = http.RequestServices.GetService<CostAccountant>()?.Budgets;
        if (gate is null)
        {
            return Results.Json(new BudgetsView("list", []), Json);
        }
        var now = time.GetUtcNow();
        var keys = http.RequestServices.GetService<KeyRing>() is { } ring
            ? (await ring.Store.ListAsync(http.RequestAborted)).Where(k => k.RevokedAt is null).ToList()
            : [];
        var names = keys.Where(k => k.Name is not null).ToDictionary(k => k.Id, k => k.Name, StringComparer.Ordinal);
        var counters = new List<ApplicableBudget>();
        foreach (var (name, limit) in gate.Policy.Limits.OrderBy(l => l.Key, StringComparer.OrdinalIgnoreCase))
        {
            var scope = limit.Scope?.ToLowerInvariant();
            IEnumerable<string?> subjects = scope == BudgetScopes.Global ? [null]
                : limit.Match is { } match ? [match]
                : scope == BudgetScopes.Key ? KeySubjects(keys, recorder)
                : [];
            counters.AddRange(subjects.Select(subject => gate.Policy.ForLimit(name, subject, now)).OfType<ApplicableBudget>());
        }
        counters.AddRange(keys.Where(k => k.BudgetUsd is not null).Select(k => BudgetPolicy.ForKey(k, now)));
        var views = new List<BudgetStateView>(counters.Count);
        foreach (var counter in counters)
        {
            var state = await gate.Store.GetAsync(counter.CounterKey, now, http.RequestAborted);
            views.Add(View(counter, state, counter.Name == BudgetPolicy.KeyBudgetName ? KeyIdOf(counter) : counter.Subject, names));
        }
        return Results.Json(new BudgetsView("list", views), Json);
    }

    /// <summary><c>GET /admin/cache</c>: the response cache's figures, as <c>/v1/cache/stats</c> gives them.</summary>
    public static async Task<IResult> Cache(HttpContext http, BatonOptions options) =>
        Results.Json(await CacheEndpoints.Stats(http, options).ConfigureAwait(false), Json);

    /// <summary><c>GET /admin/batches?limit=N</c>: the newest batch jobs (default 20), and how many are running.</summary>
    public static async Task<IResult> Batches(HttpContext http, BatchJobRunner runner)
    {
        var limit = Number(http, "limit", 20, 1, 100);
        var page = await runner.Store.ListBatchesAsync(limit, null, null, http.RequestAborted);
        var unfinished = await runner.Store.UnfinishedAsync(http.RequestAborted);
        return Results.Json(new BatchJobsView("list", unfinished.Count, page.Items.Select(JobViews.ToView).ToList()), Json);
    }

    private static IEnumerable<string?> KeySubjects(IReadOnlyList<VirtualKey> keys, RequestRecorder recorder) =>
        keys.Select(k => k.Id)
            .Concat(recorder.Snapshot().Keys.Select(k => k.Name).Where(id => id is not RequestRecorder.NoKeySeries and not RequestRecorder.OtherSeries))
            .Distinct(StringComparer.Ordinal);

    /// <summary>A key budget's counter is <c>key-budget|{key id}|{window}</c>; its subject is the key's name.</summary>
    private static string? KeyIdOf(ApplicableBudget budget) => budget.CounterKey.Split('|') is { Length: 3 } parts ? parts[1] : null;

    private static BudgetStateView View(ApplicableBudget budget, BudgetState state, string? subject, Dictionary<string, string?> names)
    {
        var limit = budget.HardUsd ?? budget.SoftUsd;
        return new BudgetStateView(budget.Name, budget.Scope, subject, subject is not null && names.TryGetValue(subject, out var name) ? name : null,
            budget.Period, budget.SoftUsd, budget.HardUsd, state.SpentUsd, state.ReservedUsd,
            budget.HardUsd is { } hard ? Math.Max(0, hard - state.CommittedUsd) : null,
            limit is > 0 ? (double)(state.CommittedUsd / limit.Value) : null,
            budget.ResetsAt);
    }

    private static DeploymentStateView View(DeploymentHealthReport report, RateLimiting.DeploymentRateLimiter limiter, RateLimiting.RateLimitSnapshot? snapshot)
    {
        var settings = limiter.Settings;
        return new DeploymentStateView(report,
            new RateLimitView(settings.RequestsPerMinute, settings.TokensPerMinute, settings.MaxConcurrency, limiter.InFlight,
                snapshot?.RemainingRequests, snapshot?.RemainingTokens,
                Share(snapshot?.RemainingRequests, settings.RequestsPerMinute), Share(snapshot?.RemainingTokens, settings.TokensPerMinute),
                snapshot?.RequestsResetAt, snapshot?.TokensResetAt));
    }

    private static double? Share(int? remaining, int? limit) =>
        remaining is { } left && limit is > 0 ? Math.Round(Math.Clamp((double)left / limit.Value, 0, 1), 4) : null;

    private static int Number(HttpContext http, string name, int fallback, int min, int max)
    {
        var text = http.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw BatonException.InvalidRequest($"Invalid value for '{name}': '{text}'. It must be a whole number from {min} to {max}.", name, "invalid_value");
        }
        return value;
    }
}
