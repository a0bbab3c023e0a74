namespace Baton.Monitoring;

/// <summary>
/// What the gateway did over a window ending now, from a <see cref="RequestRecorder"/>: the last minute live,
/// the last five minutes and the whole window in figures, every minute of the window, and the same per model
/// and per key.
/// </summary>
/// <param name="Time">When the snapshot was taken.</param>
/// <param name="WindowMinutes">How many minutes <paramref name="Window"/> and <paramref name="Minutes"/> cover (the current one included).</param>
/// <param name="Live">The last 60 seconds, to the second.</param>
/// <param name="Recent">The last five minutes (the current minute and the four before it).</param>
/// <param name="Window">The whole window.</param>
/// <param name="Minutes">Each minute of the window, oldest first; minutes without traffic are zeros.</param>
/// <param name="Models">Per configured model that answered (or was asked for, when none did), busiest first.</param>
/// <param name="Keys">Per caller key id, busiest first.</param>
/// <param name="Recorded">Requests recorded since the gateway started.</param>
public sealed record TrafficSnapshot(
    DateTimeOffset Time,
    int WindowMinutes,
    LiveTraffic Live,
    TrafficFigures Recent,
    TrafficFigures Window,
    IReadOnlyList<MinuteTraffic> Minutes,
    IReadOnlyList<SeriesTraffic> Models,
    IReadOnlyList<SeriesTraffic> Keys,
    long Recorded);

/// <summary>The last 60 seconds: requests finished, errors among them, and their rates.</summary>
public sealed record LiveTraffic(long Requests, long Errors, double RequestsPerSecond, double ErrorRate);

/// <summary>
/// Figures of a set of requests. Latency and time-to-first-token percentiles are those of answers (errors end at
/// unrelated times); tokens per second are output tokens over generation time (after the first token for a stream)
/// of answers not served from the cache; the error rate counts neither answers nor requests the client left (499).
/// </summary>
public sealed record TrafficFigures(
    long Requests,
    long Errors,
    long Cancelled,
    double ErrorRate,
    double? LatencyP50Ms,
    double? LatencyP95Ms,
    double? TimeToFirstTokenP50Ms,
    double? TimeToFirstTokenP95Ms,
    double? TokensPerSecond,
    long InputTokens,
    long OutputTokens,
    decimal CostUsd,
    long CacheHits,
    long CacheMisses,
    double? CacheHitRatio);

/// <summary>One minute of the window.</summary>
public sealed record MinuteTraffic(DateTimeOffset Start, TrafficFigures Figures);

/// <summary>One model or key over the window, with its requests, tokens and cost in each minute of it.</summary>
/// <param name="Name">The model's name, or the key's id.</param>
/// <param name="Label">The key's name, if it has one.</param>
/// <param name="Totals">The whole window.</param>
/// <param name="Minutes">Each minute, aligned with <see cref="TrafficSnapshot.Minutes"/>.</param>
public sealed record SeriesTraffic(string Name, string? Label, TrafficFigures Totals, IReadOnlyList<SeriesPoint> Minutes);

/// <summary>A model's or key's requests, tokens (input and output) and cost in one minute.</summary>
public readonly record struct SeriesPoint(long Requests, long Tokens, decimal CostUsd);
