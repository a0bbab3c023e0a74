using System.Globalization;
using Baton.Configuration;
using Baton.Requests;

namespace Baton.Accounting.Budgets;

/// <summary>A configured limit as it applies to one request: whose spending it counts, and in which period window.</summary>
public sealed record ApplicableBudget(string Name, string Scope, string? Subject, string Period, decimal? SoftUsd, decimal? HardUsd,
    string CounterKey, DateTimeOffset? ResetsAt)
{
    /// <summary>For messages: <c>'daily-per-key' (key 'k-1a2b', daily)</c>.</summary>
    public string Describe() => Subject is null ? $"'{Name}' ({Scope}, {Period})" : $"'{Name}' ({Scope} '{Subject}', {Period})";
}

/// <summary>
/// Turns the configured limits into the counters a request touches. A limit without <c>match</c> counts each
/// session, key, user or tag apart; one with <c>match</c> counts only that one. Daily and monthly windows are
/// UTC calendar days and months: the window's start is part of the counter key, so a new window starts at zero
/// and the old one stays on file.
/// </summary>
public sealed class BudgetPolicy(BudgetOptions options)
{
    /// <summary>The name a virtual key's own budget goes by in messages.</summary>
    public const string KeyBudgetName = "key-budget";

    public bool IsEmpty => options.Limits.Count == 0;

    /// <summary>True when a request falls under no budget: none is configured and its key has none.</summary>
    public bool AppliesTo(ChatRequest request) => !IsEmpty || request.Options.Key?.BudgetUsd is not null;

    /// <summary>The counter of a virtual key's own budget in the window containing <paramref name="now"/>, with when it resets.</summary>
    public static ApplicableBudget ForKey(Auth.VirtualKey key, DateTimeOffset now)
    {
        var period = key.BudgetPeriod.ToLowerInvariant();
        var (window, resets) = Window(period, now);
        return new ApplicableBudget(KeyBudgetName, BudgetScopes.Key, key.Name ?? key.Id, period, null, key.BudgetUsd,
            $"{KeyBudgetName}|{key.Id}|{window}", resets);
    }

    /// <summary>The configured limits by name.</summary>
    public IReadOnlyDictionary<string, BudgetLimitOptions> Limits => options.Limits;

    /// <summary>
    /// The counter the configured limit <paramref name="name"/> keeps for <paramref name="subject"/> (null for a
    /// global limit) in the window containing <paramref name="now"/>; null when there is no such limit.
    /// </summary>
    public ApplicableBudget? ForLimit(string name, string? subject, DateTimeOffset now)
    {
        if (!options.Limits.TryGetValue(name, out var limit))
        {
            return null;
        }
        var scope = limit.Scope!.ToLowerInvariant();
        var period = (limit.Period ?? BudgetPeriods.Total).ToLowerInvariant();
        var (window, resets) = Window(period, now);
        return new ApplicableBudget(name, scope, subject, period, limit.SoftUsd, limit.HardUsd, $"{name}|{scope}|{subject}|{window}", resets);
    }

    public IReadOnlyList<ApplicableBudget> For(ChatRequest request, DateTimeOffset now)
    {
        var applicable = new List<ApplicableBudget>();
        if (request.Options.Key is { BudgetUsd: not null } key)
        {
            applicable.Add(ForKey(key, now));
        }
        foreach (var (name, limit) in options.Limits)
        {
            var scope = limit.Scope!.ToLowerInvariant();
            foreach (var subject in Subjects(scope, request))
            {
                if (limit.Match is { } match && !string.Equals(match, subject, StringComparison.Ordinal))
                {
                    continue;
                }
                var period = (limit.Period ?? BudgetPeriods.Total).ToLowerInvariant();
                var (window, resets) = Window(period, now);
                applicable.Add(new ApplicableBudget(name, scope, subject, period, limit.SoftUsd, limit.HardUsd,
                    $"{name}|{scope}|{subject}|{window}", resets));
            }
        }
        return applicable;
    }

    private static IEnumerable<string?> Subjects(string scope, ChatRequest request) => scope switch
    {
        BudgetScopes.Global => [(string?)null],
        BudgetScopes.Session => request.SessionId is { } session ? [session] : [],
        BudgetScopes.Key => request.ApiKeyId is { } key ? [key] : [],
        BudgetScopes.User => request.User is { } user ? [user] : [],
        BudgetScopes.Tag => request.Tags?.Distinct(StringComparer.Ordinal) ?? Enumerable.Empty<string?>(),
        _ => Enumerable.Empty<string?>(),
    };

    private static (string Window, DateTimeOffset? ResetsAt) Window(string period, DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        return period switch
        {
            BudgetPeriods.Daily => (utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), new DateTimeOffset(utc.Date.AddDays(1), TimeSpan.Zero)),
            BudgetPeriods.Monthly => (utc.ToString("yyyy-MM", CultureInfo.InvariantCulture),
                new DateTimeOffset(new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1), TimeSpan.Zero)),
            _ => ("all", null),
        };
    }
}
