namespace Baton.Monitoring;

/// <summary>
/// Keeps what the gateway did, in fixed memory, for the dashboard and its admin endpoints: a ring of the last
/// requests (<see cref="RecentCapacity"/>), per-second counts for the last minute, and per-minute sums for the
/// last hour, in total and per model and key (at most <see cref="MaxSeriesPerMinute"/> of each a minute; the rest
/// are summed as <see cref="OtherSeries"/>). Each slot is reused once its time has passed, so memory does not grow
/// with traffic or uptime. One short lock guards it all: recording is a few additions, and a snapshot, taken
/// every few seconds by a dashboard, merges at most sixty minutes. Time comes from the injected clock and each
/// request's own end time, so windows can be tested on a fake clock.
/// </summary>
public sealed class RequestRecorder
{
    /// <summary>How many minutes the per-minute sums cover.</summary>
    public const int WindowMinutes = 60;

    /// <summary>How many of the last requests are kept by default.</summary>
    public const int DefaultRecentCapacity = 200;

    /// <summary>The most models, and keys, summed apart in one minute.</summary>
    public const int MaxSeriesPerMinute = 50;

    /// <summary>The series holding the models or keys past <see cref="MaxSeriesPerMinute"/> in a minute.</summary>
    public const string OtherSeries = "(other)";

    /// <summary>The key series of requests made without any key.</summary>
    public const string NoKeySeries = "(none)";

    private const int RecentMinutes = 5;
    private const int LiveSeconds = 60;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    // The last requests as values, overwritten in place: recording one allocates nothing.
    private readonly RecordedRequest[] _recent;
    private readonly MinuteSlot[] _minutes = new MinuteSlot[WindowMinutes];
    private readonly SecondSlot[] _seconds = new SecondSlot[LiveSeconds];
    private long _recorded;

    /// <param name="time">The clock windows are read on.</param>
    /// <param name="recentCapacity">How many of the last requests to keep.</param>
    public RequestRecorder(TimeProvider time, int recentCapacity = DefaultRecentCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(recentCapacity, 1);
        _time = time;
        _recent = new RecordedRequest[recentCapacity];
        for (var i = 0; i < _minutes.Length; i++)
        {
            _minutes[i] = new MinuteSlot();
        }
        for (var i = 0; i < _seconds.Length; i++)
        {
            _seconds[i].Second = long.MinValue;
        }
    }

    /// <summary>How many of the last requests are kept.</summary>
    public int RecentCapacity => _recent.Length;

    /// <summary>Requests recorded since start.</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>The clock the recorder reads.</summary>
    public TimeProvider Time => _time;

    /// <summary>Adds a finished request. A request older than the window still enters the ring of last requests.</summary>
    public void Record(CompletedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Record(RecordedRequest.From(request));
    }

    /// <summary>Adds a finished request, as the engine records it.</summary>
    internal void Record(in RecordedRequest request)
    {
        var second = request.Time.ToUnixTimeSeconds();
        var minute = Math.DivRem(second, 60, out var rest) - (rest < 0 ? 1 : 0);
        lock (_gate)
        {
            _recent[(int)(_recorded % _recent.Length)] = request;
            Interlocked.Increment(ref _recorded);

            ref var slot = ref _seconds[(int)Mod(second, LiveSeconds)];
            if (slot.Second < second)
            {
                slot = new SecondSlot { Second = second };
            }
            if (slot.Second == second)
            {
                slot.Requests++;
                slot.Errors += request.IsError ? 1 : 0;
            }

            var bucket = _minutes[(int)Mod(minute, WindowMinutes)];
            if (bucket.Minute < minute)
            {
                bucket.Reset(minute);
            }
            if (bucket.Minute == minute)
            {
                bucket.Add(request);
            }
        }
    }

    /// <summary>The last <paramref name="limit"/> requests recorded, newest first.</summary>
    public IReadOnlyList<CompletedRequest> Recent(int limit)
    {
        lock (_gate)
        {
            var count = (int)Math.Min(Math.Min(limit, _recent.Length), _recorded);
            var list = new List<CompletedRequest>(Math.Max(count, 0));
            for (var i = 1; i <= count; i++)
            {
                list.Add(_recent[(int)((_recorded - i) % _recent.Length)].ToCompleted());
            }
            return list;
        }
    }

    /// <summary>What the gateway did over the last <paramref name="minutes"/> minutes (1 to 60), the current one included.</summary>
    public TrafficSnapshot Snapshot(int minutes = WindowMinutes)
    {
        minutes = Math.Clamp(minutes, 1, WindowMinutes);
        var now = _time.GetUtcNow();
        var nowSecond = now.ToUnixTimeSeconds();
        var nowMinute = Math.DivRem(nowSecond, 60, out var rest) - (rest < 0 ? 1 : 0);
        var first = nowMinute - minutes + 1;
        var window = new TrafficTally(percentiles: true);
        var recent = new TrafficTally(percentiles: true);
        var perMinute = new List<MinuteTraffic>(minutes);
        var models = new Dictionary<string, SeriesBuilder>(StringComparer.Ordinal);
        var keys = new Dictionary<string, SeriesBuilder>(StringComparer.Ordinal);
        long liveRequests = 0, liveErrors = 0;
        lock (_gate)
        {
            for (var minute = first; minute <= nowMinute; minute++)
            {
                var index = (int)(minute - first);
                var bucket = _minutes[(int)Mod(minute, WindowMinutes)];
                var start = DateTimeOffset.FromUnixTimeSeconds(minute * 60);
                if (bucket.Minute != minute)
                {
                    perMinute.Add(new MinuteTraffic(start, new TrafficTally(percentiles: false).Figures()));
                    continue;
                }
                perMinute.Add(new MinuteTraffic(start, bucket.All.Figures()));
                window.AddAll(bucket.All);
                if (minute > nowMinute - RecentMinutes)
                {
                    recent.AddAll(bucket.All);
                }
                Collect(models, bucket.Models, index, minutes);
                Collect(keys, bucket.Keys, index, minutes);
            }
            foreach (var slot in _seconds)
            {
                if (slot.Second > nowSecond - LiveSeconds && slot.Second <= nowSecond)
                {
                    liveRequests += slot.Requests;
                    liveErrors += slot.Errors;
                }
            }
        }
        var live = new LiveTraffic(liveRequests, liveErrors, Math.Round(liveRequests / (double)LiveSeconds, 3),
            liveRequests == 0 ? 0 : Math.Round(liveErrors / (double)liveRequests, 4));
        return new TrafficSnapshot(now, minutes, live, recent.Figures(), window.Figures(), perMinute,
            Ordered(models), Ordered(keys), Recorded);
    }

    private static void Collect(Dictionary<string, SeriesBuilder> series, Dictionary<string, TrafficTally> minute, int index, int minutes)
    {
        foreach (var (name, tally) in minute)
        {
            if (!series.TryGetValue(name, out var builder))
            {
                series[name] = builder = new SeriesBuilder(minutes);
            }
            builder.Totals.AddAll(tally);
            builder.Points[index] = new SeriesPoint(tally.Requests, tally.Tokens, tally.CostUsd);
        }
    }

    private static List<SeriesTraffic> Ordered(Dictionary<string, SeriesBuilder> series) =>
        series.OrderByDescending(s => s.Value.Totals.Requests).ThenBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => new SeriesTraffic(s.Key, s.Value.Totals.Label, s.Value.Totals.Figures(), s.Value.Points))
            .ToList();

    private static long Mod(long value, int divisor) => ((value % divisor) + divisor) % divisor;

    private sealed class SeriesBuilder(int minutes)
    {
        public TrafficTally Totals { get; } = new(percentiles: true);

        public SeriesPoint[] Points { get; } = new SeriesPoint[minutes];
    }

    private struct SecondSlot
    {
        public long Second;
        public int Requests;
        public int Errors;
    }

    /// <summary>One minute's sums: in total, per model and per key.</summary>
    private sealed class MinuteSlot
    {
        public long Minute { get; private set; } = long.MinValue;

        public TrafficTally All { get; private set; } = new(percentiles: true);

        public Dictionary<string, TrafficTally> Models { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, TrafficTally> Keys { get; } = new(StringComparer.Ordinal);

        public void Reset(long minute)
        {
            Minute = minute;
            All = new TrafficTally(percentiles: true);
            Models.Clear();
            Keys.Clear();
        }

        public void Add(in RecordedRequest request)
        {
            All.Add(request);
            Series(Models, request.Model, percentiles: true).Add(request);
            var keyId = request.KeyId ?? NoKeySeries;
            var key = Series(Keys, keyId, percentiles: false);
            key.Add(request);
            if (request.KeyName is not null && Keys.ContainsKey(keyId))
            {
                key.Label = request.KeyName;
            }
        }

        private static TrafficTally Series(Dictionary<string, TrafficTally> series, string name, bool percentiles)
        {
            if (series.TryGetValue(name, out var tally))
            {
                return tally;
            }
            // Past the cap (many keys, or clients naming many unknown models), the rest share one series.
            if (series.Count >= MaxSeriesPerMinute)
            {
                name = OtherSeries;
                if (series.TryGetValue(name, out tally))
                {
                    return tally;
                }
            }
            return series[name] = new TrafficTally(percentiles);
        }
    }
}
