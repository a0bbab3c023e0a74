using System.Globalization;
using System.Net.Http.Headers;

namespace Baton.RateLimiting;

/// <summary>
/// What an upstream said about its own limits in its <c>x-ratelimit-*</c> headers: the requests and tokens
/// left, and how long until each is reset. Any value may be missing.
/// </summary>
public sealed record UpstreamRateLimit(int? RemainingRequests, int? RemainingTokens, TimeSpan? ResetRequests, TimeSpan? ResetTokens)
{
    /// <summary>When the upstream will take requests again, if it says it will not now (a remaining count of 0).</summary>
    public TimeSpan? ExhaustedFor
    {
        get
        {
            TimeSpan? wait = null;
            if (RemainingRequests == 0 && ResetRequests is { } requests)
            {
                wait = requests;
            }
            if (RemainingTokens == 0 && ResetTokens is { } tokens && !(wait >= tokens))
            {
                wait = tokens;
            }
            return wait;
        }
    }

    /// <summary>The longest reset the upstream mentions (what a 429 without <c>Retry-After</c> waits for).</summary>
    public TimeSpan? LongestReset => ResetRequests > ResetTokens || ResetTokens is null ? ResetRequests : ResetTokens;

    /// <summary>
    /// Reads <c>x-ratelimit-remaining-requests</c>, <c>x-ratelimit-remaining-tokens</c>,
    /// <c>x-ratelimit-reset-requests</c> and <c>x-ratelimit-reset-tokens</c>; null when none is there or readable.
    /// </summary>
    public static UpstreamRateLimit? Read(HttpResponseHeaders headers)
    {
        var limit = new UpstreamRateLimit(
            Integer(headers, "x-ratelimit-remaining-requests"),
            Integer(headers, "x-ratelimit-remaining-tokens"),
            Duration(headers, "x-ratelimit-reset-requests"),
            Duration(headers, "x-ratelimit-reset-tokens"));
        return limit is { RemainingRequests: null, RemainingTokens: null, ResetRequests: null, ResetTokens: null } ? null : limit;
    }

    /// <summary>
    /// Parses a reset: OpenAI's durations (<c>1s</c>, <c>6m0s</c>, <c>20ms</c>, <c>1h2m3.5s</c>) or plain seconds.
    /// </summary>
    public static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain))
        {
            return plain >= 0 ? TimeSpan.FromSeconds(plain) : null;
        }
        var total = TimeSpan.Zero;
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            var digits = 0;
            while (digits < rest.Length && (char.IsAsciiDigit(rest[digits]) || rest[digits] == '.'))
            {
                digits++;
            }
            var unit = digits;
            while (unit < rest.Length && char.IsAsciiLetter(rest[unit]))
            {
                unit++;
            }
            if (digits == 0 || unit == digits ||
                !double.TryParse(rest[..digits], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }
            switch (rest[digits..unit])
            {
                case "h": total += TimeSpan.FromHours(value); break;
                case "m": total += TimeSpan.FromMinutes(value); break;
                case "s": total += TimeSpan.FromSeconds(value); break;
                case "ms": total += TimeSpan.FromMilliseconds(value); break;
                default: return null;
            }
            rest = rest[unit..];
        }
        return total;
    }

    /// <summary>Writes a duration the way OpenAI does (<c>20ms</c>, <c>6s</c>, <c>1m30s</c>), rounded up to the millisecond.</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        var milliseconds = (long)Math.Ceiling(Math.Max(0, duration.TotalMilliseconds));
        if (milliseconds < 1000)
        {
            return milliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
        }
        var minutes = milliseconds / 60_000;
        var seconds = (milliseconds % 60_000) / 1000.0;
        var secondsText = seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        return minutes > 0 ? minutes.ToString(CultureInfo.InvariantCulture) + "m" + secondsText : secondsText;
    }

    private static int? Integer(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) &&
        long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? (int)Math.Min(value, int.MaxValue)
            : null;

    private static TimeSpan? Duration(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? ParseDuration(values.FirstOrDefault()) : null;
}
