namespace Baton.Configuration;

/// <summary>
/// The shared state of many gateway instances (<c>redis</c>): when <see cref="Connection"/> is set, rate limits
/// (per deployment and per key), budget reservations, circuit breakers, key revocations and, with
/// <c>cache.store: "redis"</c>, the response cache are shared by every instance using the same Redis and prefix.
/// </summary>
public sealed class RedisOptions
{
    /// <summary>A StackExchange.Redis configuration string, e.g. <c>redis-1:6379,password=...</c>. Unset: every instance keeps its own state.</summary>
    public string? Connection { get; set; }

    /// <summary>Prefixes every Redis key and channel (default <c>baton:</c>): deployments that share a Redis but not their limits use different prefixes.</summary>
    public string? Prefix { get; set; }

    /// <summary>
    /// What a request meets when Redis is down or slower than <see cref="TimeoutMs"/>: <c>local</c> (the default:
    /// this instance's own state, logged and counted, until Redis answers again) or <c>closed</c> (503).
    /// </summary>
    public string? FailMode { get; set; }

    /// <summary>The longest a request waits on Redis, in milliseconds (default 50).</summary>
    public int? TimeoutMs { get; set; }

    /// <summary>True when a Redis connection is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Connection);
}

/// <summary>Values of <see cref="RedisOptions.FailMode"/>.</summary>
public static class RedisFailModes
{
    /// <summary>Fall back to this instance's own state while Redis is unavailable.</summary>
    public const string Local = "local";

    /// <summary>Refuse with 503 while Redis is unavailable.</summary>
    public const string Closed = "closed";

    /// <summary>Every mode.</summary>
    public static readonly string[] All = [Local, Closed];
}
