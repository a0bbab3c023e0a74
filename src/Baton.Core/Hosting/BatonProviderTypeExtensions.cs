using Baton.Providers;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Hosting;

/// <summary>Registers provider types that live outside Baton.Core.</summary>
public static class BatonProviderTypeExtensions
{
    /// <summary>
    /// Makes <paramref name="type"/> usable as <c>providers.NAME.type</c>. A later registration of the same type wins,
    /// so an application can replace a built-in implementation.
    /// </summary>
    public static IServiceCollection AddBatonProviderType(this IServiceCollection services, string type, Func<ProviderContext, IChatProvider> create)
    {
        services.AddSingleton(new ChatProviderType(type, create));
        return services;
    }
}
