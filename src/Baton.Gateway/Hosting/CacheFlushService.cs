using Baton.Caching;
using Microsoft.Extensions.Hosting;

namespace Baton.Gateway.Hosting;

/// <summary>
/// Writes the response cache's queued answers when the host stops, before the container is disposed (which
/// flushes too): a host that is stopped but not yet disposed has its cache file complete on disk.
/// </summary>
internal sealed class CacheFlushService(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) =>
        services.GetService(typeof(ICacheStore)) is ICacheStore cache ? cache.FlushAsync(CancellationToken.None) : Task.CompletedTask;
}
