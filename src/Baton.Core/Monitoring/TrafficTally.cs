namespace Baton.Monitoring;

/// <summary>
/// Running sums of a set of finished requests (a minute, a model in a minute, a window), with latency and
/// time-to-first-token histograms when percentiles are wanted. Not thread-safe: the recorder holds its lock.
/// </summary>
internal sealed class TrafficTally(bool percentiles)
{
    private readonly LatencyHistogram? _latency = percentiles ? new() : null;
    private readonly LatencyHistogram? _ttft = percentiles ? new() : null;

    public long Requests { get; private set; }

    public long Errors { get; private set; }

    public long Cancelled { get; private set; }

    public long CacheHits { get; private set; }

    public long CacheMisses { get; private set; }

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    public decimal CostUsd { get; private set; }

    /// <summary>Output tokens of the answers whose generation time is known, and that time.</summary>
    private long _generatedTokens;
    private double _generationMs;

    /// <summary>The key's name, last seen.</summary>
    public string? Label { get; set; }

    public long Tokens => InputTokens + OutputTokens;

    public void Add(in RecordedRequest request)
    {
        Requests++;
        if (request.IsError)
        {
            Errors++;
        }
        else if (request.IsCancelled)
        {
            Cancelled++;
        }
        if (request.Cache == "hit")
        {
            CacheHits++;
        }
        else if (request.Cache == "miss")
        {
            CacheMisses++;
        }
        InputTokens += request.InputTokens;
        OutputTokens += request.OutputTokens;
        CostUsd += request.CostUsd ?? 0m;
        if (!request.IsSuccess)
        {
            return;
        }
        _latency?.Add(request.LatencyMs);
        if (request.TimeToFirstTokenMs is { } ttft)
        {
            _ttft?.Add(ttft);
        }
        // A cached answer generated nothing; counting its tokens would make the model look impossibly fast.
        var generation = request.LatencyMs - (request.TimeToFirstTokenMs ?? 0);
        if (request.Cache != "hit" && request.OutputTokens > 0 && generation > 0)
        {
            _generatedTokens += request.OutputTokens;
            _generationMs += generation;
        }
    }

    public void AddAll(TrafficTally other)
    {
        Requests += other.Requests;
        Errors += other.Errors;
        Cancelled += other.Cancelled;
        CacheHits += other.CacheHits;
        CacheMisses += other.CacheMisses;
        InputTokens += other.InputTokens;
        OutputTokens += other.OutputTokens;
        CostUsd += other.CostUsd;
        _generatedTokens += other._generatedTokens;
        _generationMs += other._generationMs;
        if (other._latency is not null)
        {
            _latency?.AddAll(other._latency);
        }
        if (other._ttft is not null)
        {
            _ttft?.AddAll(other._ttft);
        }
        Label = other.Label ?? Label;
    }

    public TrafficFigures Figures()
    {
        var looked = CacheHits + CacheMisses;
        var judged = Requests - Cancelled;
        return new TrafficFigures(
            Requests,
            Errors,
            Cancelled,
            judged == 0 ? 0 : Math.Round((double)Errors / judged, 4),
            Round(_latency?.Percentile(0.50)),
            Round(_latency?.Percentile(0.95)),
            Round(_ttft?.Percentile(0.50)),
            Round(_ttft?.Percentile(0.95)),
            _generationMs > 0 ? Math.Round(_generatedTokens / (_generationMs / 1000), 1) : null,
            InputTokens,
            OutputTokens,
            CostUsd,
            CacheHits,
            CacheMisses,
            looked == 0 ? null : Math.Round((double)CacheHits / looked, 4));
    }

    private static double? Round(double? milliseconds) => milliseconds is { } value ? Math.Round(value, 1) : null;
}
