using Baton.Configuration;
using Microsoft.Extensions.Logging;

namespace Baton.Caching;

/// <summary>Creates the configured cache store.</summary>
public static class CacheStores
{
    public const string Memory = "memory";
    public const string Sqlite = "sqlite";

    /// <summary>Shared by every gateway instance through <c>redis.connection</c> (the Baton.Redis package registers it).</summary>
    public const string Redis = "redis";

    /// <summary>Every store <c>cache.store</c> may name.</summary>
    public static readonly string[] All = [Sqlite, Memory, Redis];
    public const string DefaultPath = "baton-cache.db";
    public const long DefaultMaxBytes = 256L * 1024 * 1024;

    /// <summary>
    /// The memory store, or the SQLite store on <c>cache.path</c> (which logs its write failures to <paramref name="loggers"/>).
    /// For <c>redis</c>, the store registered here is replaced by the Redis one when Redis is added.
    /// </summary>
    public static ICacheStore Create(CacheOptions options, TimeProvider time, ILoggerFactory? loggers = null)
    {
        var maxBytes = options.MaxBytes ?? DefaultMaxBytes;
        // A Redis cache keeps its first level in memory; the Redis package replaces this store with the shared one.
        return string.Equals(options.Store, Memory, StringComparison.OrdinalIgnoreCase) || string.Equals(options.Store, Redis, StringComparison.OrdinalIgnoreCase)
            ? new MemoryCacheStore(maxBytes, time)
            : new SqliteCacheStore(Path.GetFullPath(options.Path ?? DefaultPath), maxBytes, time, loggers?.CreateLogger<SqliteCacheStore>());
    }
}
