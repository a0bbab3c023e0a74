using Baton.Accounting.Budgets;
using Baton.Admission;
using Baton.Auth;
using Baton.Caching;
using Baton.Configuration;
using Baton.RateLimiting;
using Baton.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Redis;

/// <summary>Registers the Redis-backed shared state of many gateway instances.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// When <c>redis.connection</c> is set, replaces the per-process stores registered by <c>AddBaton</c> (call it
    /// first) with Redis-backed ones: deployment and key rate limits, budget reservations, the one admission script
    /// of a request (with calls in flight shared across gateways), circuit breakers, key change announcements and, when <c>cache.store</c> is <c>redis</c>, the response cache. Does nothing otherwise.
    /// </summary>
    public static IServiceCollection AddBatonRedis(this IServiceCollection services, BatonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Redis.Enabled)
        {
            return services;
        }
        services.TryAddSingleton(sp => new RedisConnection(options.Redis,
            sp.GetService<ILogger<RedisConnection>>() ?? NullLogger<RedisConnection>.Instance));
        Replace<IRateLimitStore>(services, sp => new RedisRateLimitStore(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>()));
        // One script per request for the key, the budget and the first deployment, and calls in flight shared by all.
        Replace<IAdmissionStore>(services, sp => new RedisAdmissionStore(sp.GetRequiredService<RedisConnection>(),
            sp.GetRequiredService<IRateLimitStore>() as RedisRateLimitStore,
            sp.GetService<ILogger<RedisAdmissionStore>>() ?? NullLogger<RedisAdmissionStore>.Instance));
        Replace<IBreakerStateStore>(services, sp => new RedisBreakerStateStore(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>()));
        Replace<IKeyChangeFeed>(services, sp => new RedisKeyChangeFeed(sp.GetRequiredService<RedisConnection>()));
        // The embedded store keeps budgets while Redis is unavailable (fail mode local).
        var localBudgets = services.LastOrDefault(d => d.ServiceType == typeof(IBudgetStore));
        if (localBudgets is not null)
        {
            services.Remove(localBudgets);
            services.AddSingleton<IBudgetStore>(sp => new RedisBudgetStore(sp.GetRequiredService<RedisConnection>(), Resolve<IBudgetStore>(sp, localBudgets)));
        }
        if (string.Equals(options.Cache.Store, CacheStores.Redis, StringComparison.OrdinalIgnoreCase) &&
            !string.Equals(options.Cache.Mode ?? CacheModes.Off, CacheModes.Off, StringComparison.OrdinalIgnoreCase))
        {
            Replace<ICacheStore>(services, sp => new RedisCacheStore(sp.GetRequiredService<RedisConnection>(),
                options.Cache.MaxBytes ?? CacheStores.DefaultMaxBytes, sp.GetRequiredService<TimeProvider>()));
        }
        return services;
    }

    private static void Replace<T>(IServiceCollection services, Func<IServiceProvider, T> create) where T : class
    {
        services.RemoveAll<T>();
        services.AddSingleton(create);
    }

    private static T Resolve<T>(IServiceProvider services, ServiceDescriptor descriptor) where T : class =>
        (T)(descriptor.ImplementationInstance ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}
