using Baton.Accounting.Ledger;
using Baton.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Hosting;

/// <summary>
/// Applies <c>ledger.retentionDays</c>: deletes the ledger's rows older than that at start-up and every hour after,
/// on the injected clock. With a shared ledger every gateway purges; deleting rows already deleted costs nothing.
/// </summary>
internal sealed partial class LedgerRetentionService(IServiceProvider services, BatonOptions options, TimeProvider time, ILogger<LedgerRetentionService> logger)
    : BackgroundService
{
    /// <summary>How often old rows are deleted.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Ledger.RetentionDays is not { } days || services.GetService<LedgerWriter>() is not { } ledger)
        {
            return;
        }
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                var before = time.GetUtcNow().AddDays(-days);
                var deleted = await ledger.PurgeAsync(before, stoppingToken).ConfigureAwait(false);
                Log.Purged(logger, deleted, days);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next round tries again; an unreachable database must not stop the gateway.
                Log.PurgeFailed(logger, ex, ledger.Location);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Deleted {Count} ledger rows older than {Days} days (ledger.retentionDays)")]
        public static partial void Purged(ILogger logger, long count, int days);

        [LoggerMessage(2, LogLevel.Warning, "Deleting old ledger rows from {Location} failed; retrying in an hour")]
        public static partial void PurgeFailed(ILogger logger, Exception exception, string location);
    }
}
