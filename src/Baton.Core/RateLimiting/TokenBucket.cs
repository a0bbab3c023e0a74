namespace Baton.RateLimiting;

/// <summary>
/// A bucket of <see cref="Capacity"/> tokens refilled continuously at <see cref="Capacity"/> per minute,
/// read from the injected clock. Not thread-safe: its owner locks around it.
/// </summary>
/// <remarks>
/// Written here rather than taken from System.Threading.RateLimiting: its <c>TokenBucketRateLimiter</c> reads
/// the system clock (it takes no <see cref="TimeProvider"/>), refills in whole periods, cannot take back
/// tokens or go into debt when the reported usage corrects an estimate, and does not say exactly when a
/// given number of tokens will be there. This bucket is two numbers (level and time of the last refill),
/// the same state an atomic Redis script will keep for limits shared across instances.
/// </remarks>
public sealed class TokenBucket
{
    // Rounding slack: a wait computed to the tick must find the tokens there when it ends.
    private const double Epsilon = 1e-9;

    private readonly double _perSecond;
    private double _level;
    private DateTimeOffset _refilled;

    /// <summary>Creates a full bucket of <paramref name="capacity"/> tokens a minute, as of <paramref name="now"/>.</summary>
    public TokenBucket(int capacity, DateTimeOffset now)
    {
        Capacity = capacity;
        _perSecond = capacity / 60.0;
        _level = capacity;
        _refilled = now;
    }

    /// <summary>The most tokens the bucket holds, and how many it refills in a minute.</summary>
    public int Capacity { get; }

    /// <summary>Tokens in the bucket now; negative while a correction is being paid back.</summary>
    public double Level(DateTimeOffset now)
    {
        Refill(now);
        return _level;
    }

    /// <summary>How long until <paramref name="count"/> tokens are there (zero when they are).</summary>
    public TimeSpan TimeUntil(double count, DateTimeOffset now)
    {
        Refill(now);
        var missing = Math.Min(count, Capacity) - _level;
        return missing <= Epsilon ? TimeSpan.Zero : Ceiling(missing / _perSecond);
    }

    /// <summary>How long until the bucket is full again.</summary>
    public TimeSpan TimeUntilFull(DateTimeOffset now) => TimeUntil(Capacity, now);

    /// <summary>Takes <paramref name="count"/> tokens (at most the capacity, so a large request is not refused forever); the level may go negative.</summary>
    public void Take(double count, DateTimeOffset now)
    {
        Refill(now);
        _level -= Math.Min(count, Capacity);
    }

    /// <summary>Gives tokens back (or, when negative, takes more): the correction of an estimate.</summary>
    public void Adjust(double count, DateTimeOffset now)
    {
        Refill(now);
        _level = Math.Min(Capacity, _level + count);
    }

    /// <summary>Lowers the level to what the upstream says is left; never raises it.</summary>
    public void LowerTo(double count, DateTimeOffset now)
    {
        Refill(now);
        _level = Math.Min(_level, count);
    }

    private void Refill(DateTimeOffset now)
    {
        if (now > _refilled)
        {
            _level = Math.Min(Capacity, _level + (now - _refilled).TotalSeconds * _perSecond);
            _refilled = now;
        }
    }

    private static TimeSpan Ceiling(double seconds) => TimeSpan.FromTicks((long)Math.Ceiling(seconds * TimeSpan.TicksPerSecond));
}
