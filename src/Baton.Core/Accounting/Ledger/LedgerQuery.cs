using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Baton.Accounting.Ledger;

/// <summary>
/// What to add up: rows matching every filter given (a session, a model, an API key, a user, a tag, a time range
/// with since inclusive and until exclusive), and how to break them down; for a caller with a virtual key,
/// <paramref name="ApiKey"/> restricts the rows to that key's whatever else is asked.
/// </summary>
public sealed record CostQuery(string? SessionId = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null, CostGrouping GroupBy = CostGrouping.Model,
    string? ApiKey = null)
{
    /// <summary>The configured model that answered.</summary>
    public string? Model { get; init; }

    /// <summary>The caller's key as the ledger's <c>api_key</c> holds it (a virtual key's id, <c>master</c>, or a fingerprint without keys).</summary>
    public string? Key { get; init; }

    /// <summary>The body's <c>user</c>.</summary>
    public string? User { get; init; }

    /// <summary>One of the request's tags.</summary>
    public string? Tag { get; init; }
}

/// <summary>How <see cref="LedgerQuery"/> breaks totals down.</summary>
public enum CostGrouping
{
    Model,
    Tier,
    Task,
    /// <summary>By API key (a virtual key's id, <c>master</c> or a fingerprint), else by <c>user</c>.</summary>
    Key,
    /// <summary>By UTC day.</summary>
    Day,
    /// <summary>By session id.</summary>
    Session,
    /// <summary>By the provider that answered (the deployment id's first part).</summary>
    Provider,
    /// <summary>By deployment: <c>provider/upstream-model</c>.</summary>
    Deployment,
}

/// <summary>
/// Totals of a set of ledger rows (seed 002's summary: cost, requests, input and output tokens). <see cref="Requests"/>
/// counts client requests (a resumed stream is one), <see cref="Attempts"/> the upstream attempts that billed
/// tokens (a resumed stream is two), <see cref="CacheHits"/> the requests answered from Baton's cache at no cost.
/// Token sums count billed tokens only: a cache hit's tokens were not billed again.
/// </summary>
public sealed record CostTotals(decimal CostUsd, long Requests, long PromptTokens, long CachedTokens, long CompletionTokens, long ReasoningTokens)
{
    public long Attempts { get; init; }

    public long CacheHits { get; init; }

    /// <summary>Prompt tokens written to the provider's prompt cache (billed at its cache-write price).</summary>
    public long CacheWriteTokens { get; init; }

    public static CostTotals Zero { get; } = new(0, 0, 0, 0, 0, 0);

    public CostTotals Add(CostTotals other) => new(CostUsd + other.CostUsd, Requests + other.Requests, PromptTokens + other.PromptTokens,
        CachedTokens + other.CachedTokens, CompletionTokens + other.CompletionTokens, ReasoningTokens + other.ReasoningTokens)
    {
        Attempts = Attempts + other.Attempts,
        CacheHits = CacheHits + other.CacheHits,
        CacheWriteTokens = CacheWriteTokens + other.CacheWriteTokens,
    };
}

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
            return new CostReport(query, CostTotals.Zero, []);
        }
        using var connection = LedgerDatabase.Open(path);
        return Run(connection, query);
    }

    public static CostReport Run(SqliteConnection connection, CostQuery query)
    {
        var where = new List<string>();
        using var command = connection.CreateCommand();
        void Filter(string? value, string condition, string parameter)
        {
            if (value is not null)
            {
                where.Add(condition);
                command.Parameters.AddWithValue(parameter, value);
            }
        }
        Filter(query.SessionId, "session = $session", "$session");
        Filter(query.ApiKey, "api_key = $api_key", "$api_key");
        Filter(query.Model, "model = $model", "$model");
        Filter(query.Key, "api_key = $key", "$key");
        Filter(query.User, "user = $user", "$user");
        // Tags are stored comma-separated; instr, unlike LIKE, gives '%' and '_' in a tag no special meaning.
        Filter(query.Tag, "instr(',' || tags || ',', ',' || $tag || ',') > 0", "$tag");
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
        const string Sums = "COALESCE(SUM(cost_picousd), 0), COALESCE(SUM(1 - continuation), 0), COALESCE(SUM(1 - cached), 0), COALESCE(SUM(cached), 0), " +
                            "COALESCE(SUM(CASE WHEN cached = 0 THEN prompt_tokens END), 0), COALESCE(SUM(CASE WHEN cached = 0 THEN cached_tokens END), 0), " +
                            "COALESCE(SUM(CASE WHEN cached = 0 THEN cache_write_tokens END), 0), COALESCE(SUM(CASE WHEN cached = 0 THEN completion_tokens END), 0), " +
                            "COALESCE(SUM(CASE WHEN cached = 0 THEN reasoning_tokens END), 0)";
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
        return new CostReport(query, groups.Aggregate(CostTotals.Zero, (sum, g) => sum.Add(g.Totals)), groups);
    }

    private static string KeyExpression(CostGrouping grouping) => grouping switch
    {
        CostGrouping.Model => "model",
        CostGrouping.Tier => $"COALESCE(tier, '{None}')",
        CostGrouping.Task => $"COALESCE(task, '{None}')",
        CostGrouping.Key => $"COALESCE(api_key, 'user:' || user, '{None}')",
        CostGrouping.Day => "strftime('%Y-%m-%d', time_ms / 1000, 'unixepoch')",
        CostGrouping.Session => $"COALESCE(session, '{None}')",
        CostGrouping.Provider => "CASE WHEN instr(deployment, '/') > 0 THEN substr(deployment, 1, instr(deployment, '/') - 1) ELSE deployment END",
        CostGrouping.Deployment => "deployment",
        _ => throw new ArgumentOutOfRangeException(nameof(grouping)),
    };

    private static CostTotals ReadTotals(SqliteDataReader reader, int first) => new(
        LedgerDatabase.FromPico(reader.GetInt64(first)), reader.GetInt64(first + 1), reader.GetInt64(first + 4),
        reader.GetInt64(first + 5), reader.GetInt64(first + 7), reader.GetInt64(first + 8))
    {
        Attempts = reader.GetInt64(first + 2),
        CacheHits = reader.GetInt64(first + 3),
        CacheWriteTokens = reader.GetInt64(first + 6),
    };

    /// <summary>Formats a cost for people: dollars with enough decimals to show small amounts.</summary>
    public static string FormatUsd(decimal usd) => "$" + usd.ToString(usd != 0 && Math.Abs(usd) < 0.01m ? "0.000000" : "0.0000", CultureInfo.InvariantCulture);
}
