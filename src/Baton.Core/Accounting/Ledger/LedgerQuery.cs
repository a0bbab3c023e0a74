using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Baton.Accounting.Ledger;

/// <summary>
/// What to add up: one session or all, a time range (since inclusive, until exclusive), how to break it down, and
/// (for a caller with a virtual key) only one key's rows.
/// </summary>
public sealed record CostQuery(string? SessionId = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null, CostGrouping GroupBy = CostGrouping.Model,
    string? ApiKey = null);

/// <summary>How <see cref="LedgerQuery"/> breaks totals down.</summary>
public enum CostGrouping
{
    Model,
    Tier,
    Task,
    /// <summary>By API key fingerprint, else by <c>user</c>.</summary>
    Key,
    /// <summary>By UTC day.</summary>
    Day,
}

/// <summary>Totals of a set of ledger rows (seed 002's summary: cost, requests, input and output tokens).</summary>
public sealed record CostTotals(decimal CostUsd, long Requests, long PromptTokens, long CachedTokens, long CompletionTokens, long ReasoningTokens);

/// <summary>The totals of one group of a breakdown; <see cref="Key"/> is <c>(none)</c> for rows without that field.</summary>
public sealed record CostGroup(string Key, CostTotals Totals);

/// <summary>Totals and their breakdown (seed 002's <c>get_session_cost</c> and <c>get_breakdown</c>).</summary>
public sealed record CostReport(CostQuery Query, CostTotals Total, IReadOnlyList<CostGroup> Breakdown);

/// <summary>Adds up ledger rows in SQL; reads only committed rows, so it never waits on the writer.</summary>
public static class LedgerQuery
{
    public const string None = "(none)";

    public static CostGrouping ParseGrouping(string value) => TryParseGrouping(value, out var grouping)
        ? grouping
        : throw new ArgumentException($"Unknown grouping '{value}'.", nameof(value));

    public static bool TryParseGrouping(string? value, out CostGrouping grouping)
    {
        grouping = CostGrouping.Model;
        return value is not null && !int.TryParse(value, out _) && Enum.TryParse(value, ignoreCase: true, out grouping) && Enum.IsDefined(grouping);
    }

    /// <summary>Runs the query on the ledger file; a file that does not exist yet has no rows.</summary>
    public static CostReport Run(string path, CostQuery query)
    {
        if (!File.Exists(path))
        {
            return new CostReport(query, new CostTotals(0, 0, 0, 0, 0, 0), []);
        }
        using var connection = LedgerDatabase.Open(path);
        return Run(connection, query);
    }

    public static CostReport Run(SqliteConnection connection, CostQuery query)
    {
        var where = new List<string>();
        using var command = connection.CreateCommand();
        if (query.SessionId is { } session)
        {
            where.Add("session = $session");
            command.Parameters.AddWithValue("$session", session);
        }
        if (query.ApiKey is { } apiKey)
        {
            where.Add("api_key = $api_key");
            command.Parameters.AddWithValue("$api_key", apiKey);
        }
        if (query.Since is { } since)
        {
            where.Add("time_ms >= $since");
            command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        }
        if (query.Until is { } until)
        {
            where.Add("time_ms < $until");
            command.Parameters.AddWithValue("$until", until.ToUnixTimeMilliseconds());
        }
        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        const string Sums = "COALESCE(SUM(cost_picousd), 0), COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(cached_tokens), 0), " +
                            "COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(reasoning_tokens), 0)";
        var key = KeyExpression(query.GroupBy);
        command.CommandText = $"SELECT {key} AS k, {Sums} FROM ledger {filter} GROUP BY k ORDER BY SUM(cost_picousd) DESC, k";

        var groups = new List<CostGroup>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                groups.Add(new CostGroup(reader.GetString(0), ReadTotals(reader, 1)));
            }
        }
        var total = new CostTotals(
            groups.Sum(g => g.Totals.CostUsd), groups.Sum(g => g.Totals.Requests), groups.Sum(g => g.Totals.PromptTokens),
            groups.Sum(g => g.Totals.CachedTokens), groups.Sum(g => g.Totals.CompletionTokens), groups.Sum(g => g.Totals.ReasoningTokens));
        return new CostReport(query, total, groups);
    }

    private static string KeyExpression(CostGrouping grouping) => grouping switch
    {
        CostGrouping.Model => "model",
        CostGrouping.Tier => $"COALESCE(tier, '{None}')",
        CostGrouping.Task => $"COALESCE(task, '{None}')",
        CostGrouping.Key => $"COALESCE(api_key, 'user:' || user, '{None}')",
        CostGrouping.Day => "strftime('%Y-%m-%d', time_ms / 1000, 'unixepoch')",
        _ => throw new ArgumentOutOfRangeException(nameof(grouping)),
    };

    private static CostTotals ReadTotals(SqliteDataReader reader, int first) => new(
        LedgerDatabase.FromPico(reader.GetInt64(first)), reader.GetInt64(first + 1), reader.GetInt64(first + 2),
        reader.GetInt64(first + 3), reader.GetInt64(first + 4), reader.GetInt64(first + 5));

    /// <summary>Formats a cost for people: dollars with enough decimals to show small amounts.</summary>
    public static string FormatUsd(decimal usd) => "$" + usd.ToString(usd != 0 && Math.Abs(usd) < 0.01m ? "0.000000" : "0.0000", CultureInfo.InvariantCulture);
}
