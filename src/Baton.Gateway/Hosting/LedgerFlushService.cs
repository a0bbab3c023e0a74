using Baton.Accounting.Ledger;
using Microsoft.Extensions.Hosting;

namespace Baton.Gateway.Hosting;

/// <summary>
/// Writes the ledger's queued rows when the host stops, before the container is disposed (which flushes too):
/// a host that is stopped but not yet disposed has its ledger complete on disk.
/// </summary>
internal sealed class LedgerFlushService(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) =>
        services.GetService(typeof(LedgerWriter)) is LedgerWriter ledger ? ledger.FlushAsync(CancellationToken.None) : Task.CompletedTask;
}
