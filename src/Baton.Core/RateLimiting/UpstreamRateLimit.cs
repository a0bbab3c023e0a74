using System.Globalization;
using System.Net.Http.Headers;

namespace Baton.RateLimiting;

/// <summary>
/// What an upstream said about its own limits in its rate-limit headers (OpenAI's <c>x-ratelimit-*</c>,
/// Anthropic's <c>anthropic-ratelimit-*</c>): the requests and tokens left, and how long until each is reset.
/// Any value may be missing.
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
    /// Reads OpenAI's <c>x-ratelimit-remaining-requests</c>, <c>x-ratelimit-remaining-tokens</c>,
    /// <c>x-ratelimit-reset-requests</c> and <c>x-ratelimit-reset-tokens</c>, or when there are none of those,
    /// Anthropic's <c>anthropic-ratelimit-requests-remaining</c>, <c>anthropic-ratelimit-requests-reset</c>,
    /// <c>anthropic-ratelimit-tokens-remaining</c> and <c>anthropic-ratelimit-tokens-reset</c> (falling back to
    /// the tighter of the <c>input-tokens</c> and <c>output-tokens</c> ones). Null when none is there or readable.
    /// </summary>
    /// <param name="headers">The upstream's response headers.</param>
    /// <param name="time">The clock Anthropic's resets, which are times rather than durations, are measured against (default: the system's).</param>
    public static UpstreamRateLimit? Read(HttpResponseHeaders headers, TimeProvider? time = null)
    {
        if (!MayHaveLimits(headers))
        {
            return null;
        }
        time ??= TimeProvider.System;
        var openAi = new UpstreamRateLimit(
            Integer(headers, "x-ratelimit-remaining-requests"),
            Integer(headers, "x-ratelimit-remaining-tokens"),
            Reset(headers, "x-ratelimit-reset-requests", time),
            Reset(headers, "x-ratelimit-reset-tokens", time));
        return openAi.OrNull() ?? ReadAnthropic(headers, time).OrNull();
    }

    /// <summary>
    /// Whether any header could be a rate-limit one: one look at each header name, so that an upstream that sends
    /// none (most answers) costs no dozen lookups by name and no record.
    /// </summary>
    private static bool MayHaveLimits(HttpResponseHeaders headers)
    {
        foreach (var header in headers.NonValidated)
        {
            if (header.Key.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase) ||
                header.Key.StartsWith("anthropic-ratelimit-", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Parses a reset: a duration (see <see cref="ParseDuration"/>) or, as Anthropic sends it, the RFC 3339 time
    /// the limit is replenished at (<c>2025-08-21T12:40:59Z</c>), as the time left until then (zero once it is past).
    /// </summary>
    public static TimeSpan? ParseReset(string? text, TimeProvider time)
    {
        if (ParseDuration(text) is { } duration)
        {
            return duration;
        }
        if (DateTimeOffset.TryParseExact(text?.Trim(), "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            var left = at - time.GetUtcNow();
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        return null;
    }

    private static UpstreamRateLimit ReadAnthropic(HttpResponseHeaders headers, TimeProvider time)
    {
        // The tokens-* headers describe the most restrictive token limit in effect; the input and output ones,
        // each limit on its own.
        var tokens = AnthropicWindow(headers, AnthropicTokens, time);
        if (tokens is (null, null))
        {
            tokens = Tighter(AnthropicWindow(headers, AnthropicInputTokens, time), AnthropicWindow(headers, AnthropicOutputTokens, time));
        }
        var requests = AnthropicWindow(headers, AnthropicRequests, time);
        return new UpstreamRateLimit(requests.Remaining, tokens.Remaining, requests.Reset, tokens.Reset);
    }

    // Header names built once: every answer without OpenAI's headers is looked up for all four.
    private static readonly (string Remaining, string Reset) AnthropicTokens = AnthropicHeaders("tokens");
    private static readonly (string Remaining, string Reset) AnthropicInputTokens = AnthropicHeaders("input-tokens");
    private static readonly (string Remaining, string Reset) AnthropicOutputTokens = AnthropicHeaders("output-tokens");
    private static readonly (string Remaining, string Reset) AnthropicRequests = AnthropicHeaders("requests");

    private static (string Remaining, string Reset) AnthropicHeaders(string limit) =>
        ($"anthropic-ratelimit-{limit}-remaining", $"anthropic-ratelimit-{limit}-reset");

    private static (int? Remaining, TimeSpan? Reset) AnthropicWindow(HttpResponseHeaders headers, (string Remaining, string Reset) names, TimeProvider time) =>
        (Integer(headers, names.Remaining), Reset(headers, names.Reset, time));

    /// <summary>The limit with fewer left; on a tie, the one that takes longer to reset.</summary>
    private static (int? Remaining, TimeSpan? Reset) Tighter((int? Remaining, TimeSpan? Reset) a, (int? Remaining, TimeSpan? Reset) b) =>
        a is (null, null) ? b
        : b is (null, null) ? a
        : b.Remaining < a.Remaining || (b.Remaining == a.Remaining && b.Reset > a.Reset) ? b : a;

    private UpstreamRateLimit? OrNull() =>
        this is { RemainingRequests: null, RemainingTokens: null, ResetRequests: null, ResetTokens: null } ? null : this;

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

    // FormatDuration's strings under a second, filled as values are met (a race writes an equal string twice: harmless).
    private static readonly string?[] SubSecond = new string?[1000];

    /// <summary>Writes a duration the way OpenAI does (<c>20ms</c>, <c>6s</c>, <c>1m30s</c>), rounded up to the millisecond.</summary>
    /// <remarks>
    /// Written from whole numbers into one buffer and made a string once (the seconds' decimals are the milliseconds,
    /// trailing zeros dropped): two of these go out with every answer. Under a second, where a bucket with room
    /// refills, the string is made once per value and kept.
    /// </remarks>
    public static string FormatDuration(TimeSpan duration)
    {
        var milliseconds = (long)Math.Ceiling(Math.Max(0, duration.TotalMilliseconds));
        if (milliseconds < 1000)
        {
            return SubSecond[milliseconds] ??= string.Create(CultureInfo.InvariantCulture, $"{milliseconds}ms");
        }
        Span<char> text = stackalloc char[48];
        int written;
        var minutes = milliseconds / 60_000;
        var seconds = milliseconds % 60_000 / 1000;
        var fraction = (int)(milliseconds % 1000);
        var digits = 3;
        while (fraction > 0 && fraction % 10 == 0)
        {
            fraction /= 10;
            digits--;
        }
        written = 0;
        if (minutes > 0)
        {
            text.TryWrite(CultureInfo.InvariantCulture, $"{minutes}m", out written);
        }
        seconds.TryFormat(text[written..], out var count, provider: CultureInfo.InvariantCulture);
        written += count;
        if (fraction > 0)
        {
            text[written++] = '.';
            fraction.TryFormat(text[written..], out count, digits switch { 1 => "D1", 2 => "D2", _ => "D3" }, CultureInfo.InvariantCulture);
            written += count;
        }
        text[written++] = 's';
        return new string(text[..written]);
    }

    private static int? Integer(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) &&
        long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? (int)Math.Min(value, int.MaxValue)
            : null;

    private static TimeSpan? Reset(HttpResponseHeaders headers, string name, TimeProvider time) =>
        headers.TryGetValues(name, out var values) ? ParseReset(values.FirstOrDefault(), time) : null;
}
