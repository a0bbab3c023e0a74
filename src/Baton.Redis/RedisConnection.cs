using System.Diagnostics.Metrics;
using Baton.Configuration;
using Baton.Errors;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Baton.Redis;

/// <summary>
/// The one connection of a gateway instance to the shared Redis, and the fail mode around every call: a call
/// that does not answer within <c>redis.timeoutMs</c>, or finds Redis disconnected, is served from this
/// instance's own state (<c>local</c>, logged once per outage and counted) or refused with 503
/// (<c>closed</c>). The multiplexer reconnects by itself; the first call that succeeds again ends the outage.
/// </summary>
public sealed partial class RedisConnection : IDisposable
{
    /// <summary>The meter of the shared-state counters.</summary>
    public const string MeterName = "Baton.Redis";

    /// <summary>How long a request waits on Redis when <c>redis.timeoutMs</c> is not set.</summary>
    public const int DefaultTimeoutMs = 50;

    /// <summary>The key and channel prefix when <c>redis.prefix</c> is not set.</summary>
    public const string DefaultPrefix = "baton:";

    /// <summary>How long a catch-up that failed waits before it is tried again (the multiplexer's own reconnect pace).</summary>
    private static readonly TimeSpan CatchUpRetryDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>The least time a catch-up is given: it is no request's wait, and one cut short is tried again whole.</summary>
    private static readonly TimeSpan CatchUpMinimumTimeout = TimeSpan.FromSeconds(1);

    private readonly ConnectionMultiplexer _multiplexer;
    private readonly ILogger _logger;
    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _fallbacks;
    private readonly bool _failClosed;
    private readonly CancellationTokenSource _closing = new();
    private long _fallbackCount;
    private long _catchUps;
    private long _catchUpFailures;
    private int _down;

    /// <summary>Connects to <paramref name="options"/>' Redis (without waiting for it to be up: a gateway starts while Redis is down).</summary>
    public RedisConnection(RedisOptions options, ILogger<RedisConnection> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        Prefix = string.IsNullOrEmpty(options.Prefix) ? DefaultPrefix : options.Prefix;
        Timeout = TimeSpan.FromMilliseconds(options.TimeoutMs ?? DefaultTimeoutMs);
        _failClosed = string.Equals(options.FailMode, RedisFailModes.Closed, StringComparison.OrdinalIgnoreCase);
        var configuration = ConfigurationOptions.Parse(options.Connection!);
        configuration.AbortOnConnectFail = false;
        // A command issued while disconnected fails at once instead of queueing: the fail mode answers it.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new LinearRetry(500);
        configuration.ConnectTimeout = Math.Max(configuration.ConnectTimeout > 0 ? Math.Min(configuration.ConnectTimeout, 2000) : 2000, 200);
        configuration.ClientName ??= "baton";
        _multiplexer = ConnectionMultiplexer.Connect(configuration);
        _fallbacks = _meter.CreateCounter<long>("baton.redis.fallbacks", description: "Shared-state operations served from the instance's own state, or refused, because Redis was unavailable");
        _multiplexer.ConnectionRestored += (_, _) =>
        {
            Log.ConnectionRestored(_logger);
            Restored?.Invoke();
        };
        Writes = new RedisWriteBehind(this);
        Buckets = new RedisKeyCache(this, "rl:");
        Leases = new RedisKeyCache(this, "cc:");
        Spent = new RedisKeyCache(this, "budget:spent:");
        Reserved = new RedisKeyCache(this, "budget:reserved:");
    }

    /// <summary>Prefixes every key and channel.</summary>
    public string Prefix { get; }

    /// <summary>The longest a request waits on Redis.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>True when Redis is unavailable and <c>redis.failMode</c> is <c>closed</c>: calls are refused, not served locally.</summary>
    public bool FailsClosed => _failClosed;

    /// <summary>True while the connection to Redis is up.</summary>
    public bool IsConnected => _multiplexer.IsConnected;

    /// <summary>True while the last call to Redis failed (and no call has succeeded since).</summary>
    public bool IsDown => Volatile.Read(ref _down) != 0;

    /// <summary>Calls served from local state (or refused) since start.</summary>
    public long FallbackCount => Interlocked.Read(ref _fallbackCount);

    internal IDatabase Database => _multiplexer.GetDatabase();

    /// <summary>The writes made behind responses, sent in batches ahead of this connection's other commands.</summary>
    internal RedisWriteBehind Writes { get; }

    /// <summary>Rate-limit buckets' keys (<c>rl:</c> and the bucket's name).</summary>
    internal RedisKeyCache Buckets { get; }

    /// <summary>Calls-in-flight sets' keys (<c>cc:</c> and the set's name).</summary>
    internal RedisKeyCache Leases { get; }

    /// <summary>Budget counters' spending keys.</summary>
    internal RedisKeyCache Spent { get; }

    /// <summary>Budget counters' reservation keys.</summary>
    internal RedisKeyCache Reserved { get; }

    internal ISubscriber Subscriber => _multiplexer.GetSubscriber();

    /// <summary>Raised when a connection to Redis comes back (what was published meanwhile was not heard).</summary>
    internal event Action? Restored;

    internal RedisKey Key(string name) => Prefix + name;

    internal RedisChannel Channel(string name) => RedisChannel.Literal(Prefix + name);

    /// <summary>
    /// Runs <paramref name="call"/> on Redis within the timeout; when Redis is unavailable, runs
    /// <paramref name="local"/> (fail mode <c>local</c>) or throws a 503 (fail mode <c>closed</c>). <paramref name="timeout"/>,
    /// when given, replaces <see cref="Timeout"/> (for a call whose caller has already waited part of it).
    /// </summary>
    internal ValueTask<T> RunAsync<T>(string operation, Func<IDatabase, Task<T>> call, Func<ValueTask<T>> local, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        // Writes queued behind earlier responses go first: what this gateway wrote, it reads back.
        Writes.SendPending();
        return RunDirectAsync(operation, call, local, cancellationToken, timeout);
    }

    /// <summary><see cref="RunAsync"/> without sending the queued writes first (what sends them).</summary>
    internal async ValueTask<T> RunDirectAsync<T>(string operation, Func<IDatabase, Task<T>> call, Func<ValueTask<T>> local, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        if (!_multiplexer.IsConnected)
        {
            return await FallBackAsync(operation, null, local).ConfigureAwait(false);
        }
        T result;
        try
        {
            // A network timeout is measured on the real clock, whatever clock the gateway's logic runs on.
            result = await call(Database).WaitAsync(timeout ?? Timeout, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return await FallBackAsync(operation, ex, local).ConfigureAwait(false);
        }
        if (Interlocked.Exchange(ref _down, 0) != 0)
        {
            Log.Recovered(_logger, operation);
        }
        return result;
    }

    /// <summary>A write nobody waits for (a publication, a correction): failures are logged and counted, never thrown.</summary>
    internal async Task TryAsync(string operation, Func<IDatabase, Task> call)
    {
        try
        {
            await RunAsync<bool>(operation, async db =>
            {
                await call(db).ConfigureAwait(false);
                return true;
            }, static () => ValueTask.FromResult(false), CancellationToken.None).ConfigureAwait(false);
        }
        catch (BatonException)
        {
            // Fail mode closed refuses requests, not background writes: already counted and logged.
        }
    }

    /// <summary>
    /// Subscribes without waiting for Redis. The client registers the subscription at once and makes it on the server
    /// whenever its connection is (re)established, so a gateway started while Redis is unreachable or still connecting
    /// starts anyway, and hears the channel once Redis answers.
    /// </summary>
    /// <remarks>
    /// <paramref name="catchUp"/>, when given, runs once the subscription is in place, and again each time a connection
    /// comes back: what the instance read before then may have been changed by an announcement it never heard
    /// (published before the SUBSCRIBE landed, or while the connection was down), so it drops, or reads again, what
    /// the channel would have told it about. A catch-up that fails (the connection that came back is not the one it
    /// needs yet, Redis refused, it ran out of time) is tried again until one succeeds or the connection is disposed of:
    /// until then the instance may hold what the lost announcements would have changed.
    /// </remarks>
    internal void Subscribe(string operation, RedisChannel channel, Action<RedisChannel, RedisValue> handler, Func<IDatabase, Task>? catchUp = null)
    {
        try
        {
            Subscriber.Subscribe(channel, handler, CommandFlags.FireAndForget);
        }
        catch (RedisException error)
        {
            Log.SubscribeDeferred(_logger, operation, error.GetType().Name, error.Message);
        }
        if (catchUp is not null)
        {
            _ = CatchUpAsync(operation, catchUp);
            Restored += () => _ = CatchUpAsync(operation, catchUp);
        }
    }

    /// <summary>How many times a subscriber has caught up (see <see cref="Subscribe"/>) since start.</summary>
    internal long CatchUps => Interlocked.Read(ref _catchUps);

    /// <summary>How many catch-ups have failed (and were tried again) since start.</summary>
    internal long CatchUpFailures => Interlocked.Read(ref _catchUpFailures);

    private async Task CatchUpAsync(string operation, Func<IDatabase, Task> catchUp)
    {
        var timeout = Timeout > CatchUpMinimumTimeout ? Timeout : CatchUpMinimumTimeout;
        for (var attempt = 0; !_closing.IsCancellationRequested; attempt++)
        {
            if (await TryCatchUpAsync(operation, catchUp, timeout, logFailure: attempt == 0).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _catchUps);
                return;
            }
            Interlocked.Increment(ref _catchUpFailures);
            try
            {
                await Task.Delay(CatchUpRetryDelay, TimeProvider.System, _closing.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // Not a call served from the instance's own state: a failure is no fallback, and the fail mode does not apply.
    // A ping on the subscription connection answers after every SUBSCRIBE sent on it before.
    private async Task<bool> TryCatchUpAsync(string operation, Func<IDatabase, Task> catchUp, TimeSpan timeout, bool logFailure)
    {
        if (!_multiplexer.IsConnected)
        {
            return false;
        }
        try
        {
            await Subscriber.PingAsync().WaitAsync(timeout, TimeProvider.System, _closing.Token).ConfigureAwait(false);
            await catchUp(Database).WaitAsync(timeout, TimeProvider.System, _closing.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception error) when (error is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            if (logFailure && !_closing.IsCancellationRequested)
            {
                Log.CatchUpFailed(_logger, operation, error.GetType().Name, error.Message);
            }
            return false;
        }
    }

    /// <summary>
    /// One call served without Redis: counted, logged at the start of an outage, then <paramref name="local"/> (fail
    /// mode <c>local</c>) or a 503 (fail mode <c>closed</c>).
    /// </summary>
    internal async ValueTask<T> FallBackAsync<T>(string operation, Exception? error, Func<ValueTask<T>> local)
    {
        Interlocked.Increment(ref _fallbackCount);
        _fallbacks.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("fail_mode", _failClosed ? "closed" : "local"));
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            Log.Unavailable(_logger, operation, _failClosed ? RedisFailModes.Closed : RedisFailModes.Local, error?.GetType().Name ?? "disconnected", error?.Message ?? "not connected");
        }
        if (_failClosed)
        {
            throw new BatonException(503, ErrorTypes.Server,
                "The gateway's shared state (Redis) is unavailable and redis.failMode is 'closed': the request is refused rather than served without shared limits. Retry shortly.",
                code: "shared_state_unavailable")
            {
                RetryAfter = TimeSpan.FromSeconds(1),
            };
        }
        return await local().ConfigureAwait(false);
    }

    /// <summary>
    /// Counts and logs <paramref name="count"/> writes of a batch that Redis refused one by one (a key of the wrong
    /// type, say) while it applied the others: Redis answered, so this is no outage; each is applied locally instead.
    /// </summary>
    internal void WritesRefused(int count, string firstError)
    {
        Interlocked.Add(ref _fallbackCount, count);
        _fallbacks.Add(count, new KeyValuePair<string, object?>("operation", "writes"), new KeyValuePair<string, object?>("fail_mode", _failClosed ? "closed" : "local"));
        Log.WritesRefused(_logger, count, firstError);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _closing.Cancel();
        Writes.SendPending();
        _multiplexer.Dispose();
        _meter.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Redis is unavailable ({Operation}: {ErrorType}: {Reason}); fail mode {FailMode} applies until it answers again")]
        public static partial void Unavailable(ILogger logger, string operation, string failMode, string errorType, string reason);

        [LoggerMessage(2, LogLevel.Information, "Redis answers again ({Operation}): limits, budgets and breakers are shared again")]
        public static partial void Recovered(ILogger logger, string operation);

        [LoggerMessage(3, LogLevel.Information, "Redis connection restored")]
        public static partial void ConnectionRestored(ILogger logger);

        [LoggerMessage(4, LogLevel.Warning, "Redis subscription for {Operation} not made yet ({ErrorType}: {Reason}); it is made when the connection is")]
        public static partial void SubscribeDeferred(ILogger logger, string operation, string errorType, string reason);

        [LoggerMessage(5, LogLevel.Warning, "Redis refused {Count} write(s) behind responses ({Reason}); they were applied to this gateway's own state, the rest of their batch to Redis")]
        public static partial void WritesRefused(ILogger logger, int count, string reason);

        [LoggerMessage(6, LogLevel.Warning, "Redis catch-up for {Operation} failed ({ErrorType}: {Reason}); it is tried again every half second until it succeeds")]
        public static partial void CatchUpFailed(ILogger logger, string operation, string errorType, string reason);
    }
}
