using Microsoft.Extensions.Logging;
using Npgsql;

namespace Baton.Postgres.Auth;

/// <summary>
/// Holds a connection of its own that <c>LISTEN</c>s on a channel and calls its callback for every
/// notification. Notifications sent while the connection is down are lost, so the callback also runs on every
/// (re)connection and after every failed try (once a second while the database is unreachable): the listener's
/// owner then forgets what it cached, and a revocation is never missed for longer than a second.
/// </summary>
internal sealed partial class KeyChangeListener : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly PostgresDatabase _database;
    private readonly string _channel;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action _changed;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;
    private int _disposed;

    public KeyChangeListener(PostgresDatabase database, string channel, TimeProvider time, ILogger logger, Action changed)
    {
        _database = database;
        _channel = channel;
        _time = time;
        _logger = logger;
        _changed = changed;
        _loop = Task.Run(() => ListenAsync(_stop.Token));
    }

    /// <summary>Completes once the first <c>LISTEN</c> has succeeded.</summary>
    public Task Listening => _listening.Task;

    private async Task ListenAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _database.OpenAsync(stopping).ConfigureAwait(false);
                connection.Notification += (_, _) => _changed();
                await using (var listen = new NpgsqlCommand($"LISTEN {_channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                }
                // Whatever changed while this process was not listening is unknown: forget it all.
                _changed();
                _listening.TrySetResult();
                while (true)
                {
                    await connection.WaitAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.ListenFailed(_logger, _database.Location, ex.Message);
                _changed();
            }
            try
            {
                await Task.Delay(RetryDelay, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The store is registered under two service types, so the container may dispose it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Listening for key changes on PostgreSQL {Location} failed, retrying in a second: {Reason}")]
        public static partial void ListenFailed(ILogger logger, string location, string reason);
    }
}
