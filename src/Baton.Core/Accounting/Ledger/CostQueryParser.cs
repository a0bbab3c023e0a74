using System.Globalization;
using Baton.Errors;

namespace Baton.Accounting.Ledger;

/// <summary>
/// Reads a <see cref="CostQuery"/> from named text values (the query string of <c>GET /v1/costs</c>, or the
/// options of <c>baton costs</c>). A malformed or unknown parameter is an <c>invalid_request_error</c> naming
/// it, never a silently ignored filter that would report the wrong totals.
/// </summary>
public static class CostQueryParser
{
    public const string SessionId = "session_id";
    public const string Since = "since";
    public const string Until = "until";
    public const string GroupBy = "group_by";
    public const string Model = "model";
    public const string Key = "key";
    public const string User = "user";
    public const string Tag = "tag";

    private static readonly string[] Known = [SessionId, Model, Key, User, Tag, Since, Until, GroupBy];

    /// <summary>The values of <c>group_by</c>.</summary>
    public static readonly string[] Groupings = ["model", "tier", "task", "key", "day", "session", "provider", "deployment"];

    /// <summary>The last second a date can hold, 9999-12-31T23:59:59Z.</summary>
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    public static CostQuery Parse(IEnumerable<KeyValuePair<string, IReadOnlyList<string?>>> parameters)
    {
        var query = new CostQuery();
        foreach (var (name, values) in parameters)
        {
            if (!Known.Contains(name, StringComparer.Ordinal))
            {
                throw Invalid(name, $"Unknown query parameter '{name}'; expected {string.Join(", ", Known)}.", "unknown_parameter");
            }
            if (values.Count != 1 || string.IsNullOrWhiteSpace(values[0]))
            {
                throw Invalid(name, $"The query parameter '{name}' must be given once, with a value.");
            }
            var value = values[0]!.Trim();
            query = name switch
            {
                SessionId => query with { SessionId = value },
                Model => query with { Model = value },
                Key => query with { Key = value },
                User => query with { User = value },
                Tag => query with { Tag = value },
                Since => query with { Since = ParseTime(name, value) },
                Until => query with { Until = ParseTime(name, value) },
                _ => query with { GroupBy = LedgerQuery.TryParseGrouping(value, out var grouping) ? grouping
                    : throw Invalid(name, $"Invalid value '{value}' for 'group_by': expected one of {string.Join(", ", Groupings)}.") },
            };
        }
        if (query is { Since: { } since, Until: { } until } && until <= since)
        {
            throw Invalid(Until, "'until' must be later than 'since'.");
        }
        return query;
    }

    /// <summary>An ISO 8601 date or date-time (UTC unless it has an offset), or Unix seconds.</summary>
    public static DateTimeOffset ParseTime(string name, string value)
    {
        if (value.All(char.IsAsciiDigit) && value.Length is > 4 and <= 12 && long.TryParse(value, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds <= MaxUnixSeconds
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : throw Invalid(name, $"Invalid value '{value}' for '{name}': Unix seconds must be at most {MaxUnixSeconds} (9999-12-31T23:59:59Z).");
        }
        if (DateTimeOffset.TryParseExact(value, DateFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }
        throw Invalid(name, $"Invalid value '{value}' for '{name}': expected an ISO 8601 date or date-time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z) or Unix seconds.");
    }

    private static BatonException Invalid(string param, string message, string code = "invalid_value") =>
        BatonException.InvalidRequest(message, param, code);
}
