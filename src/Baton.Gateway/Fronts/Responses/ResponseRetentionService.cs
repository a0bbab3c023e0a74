using Baton.Configuration;
using Baton.Responses;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// Purges stored responses older than <c>responses.retentionDays</c>: at start, then every hour (or every retention
/// period, when shorter), on the injected clock. Reads already treat an expired response as gone; the purge frees
/// the space.
/// </summary>
internal sealed partial class ResponseRetentionService(IResponseStore store, BatonOptions options, TimeProvider time, ILogger<ResponseRetentionService> logger)
    : BackgroundService
{
    private static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);

    /// <summary>How often the purge runs.</summary>
    public TimeSpan Interval => options.Responses.Retention < MaxInterval ? options.Responses.Retention : MaxInterval;

    /// <summary>Deletes every response past its retention; returns how many.</summary>
    public async Task<int> PurgeOnceAsync(CancellationToken cancellationToken)
    {
        var purged = await store.PurgeAsync(time.GetUtcNow() - options.Responses.Retention, cancellationToken).ConfigureAwait(false);
        if (purged > 0)
        {
            Log.Purged(logger, purged);
        }
        return purged;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await PurgeOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failed purge (a locked or unreadable file) is tried again at the next tick; serving goes on.
                Log.PurgeFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Purged {Count} stored responses past their retention")]
        public static partial void Purged(ILogger logger, int count);

        [LoggerMessage(2, LogLevel.Warning, "Purging expired stored responses failed; trying again later")]
        public static partial void PurgeFailed(ILogger logger, Exception exception);
    }
}
