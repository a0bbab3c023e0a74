using Baton.Accounting;
using Baton.Accounting.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Baton.Gateway.Hosting;

/// <summary>
/// Writes the ledger's queued rows when the host stops, before the container is disposed (which flushes too):
/// a host that is stopped but not yet disposed has its ledger complete on disk. As soon as the host begins to
/// stop, token counts running in the background (answers without reported usage) give way to rough estimates,
/// so that neither the flush nor shutdown waits for them.
/// </summary>
internal sealed class LedgerFlushService(IServiceProvider services, IHostApplicationLifetime lifetime) : IHostedService
{
    private CancellationTokenRegistration _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<CostAccountant>() is { } accounting)
        {
            _stopping = lifetime.ApplicationStopping.Register(accounting.StopCounting);
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.DisposeAsync();
        if (services.GetService<LedgerWriter>() is { } ledger)
        {
            await ledger.FlushAsync(CancellationToken.None);
        }
    }
}
