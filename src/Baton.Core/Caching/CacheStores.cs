using Baton.Configuration;
using Microsoft.Extensions.Logging;

namespace Baton.Caching;

/// <summary>Creates the configured cache store.</summary>
public static class CacheStores
{
    public const string Memory = "memory";
    public const string Sqlite = "sqlite";
    public const string DefaultPath = "baton-cache.db";
    public const long DefaultMaxBytes = 256L * 1024 * 1024;

    /// <summary>The memory store, or the SQLite store on <c>cache.path</c> (which logs its write failures to <paramref name="loggers"/>).</summary>
    public static ICacheStore Create(CacheOptions options, TimeProvider time, ILoggerFactory? loggers = null)
    {
        var maxBytes = options.MaxBytes ?? DefaultMaxBytes;
        return string.Equals(options.Store, Memory, StringComparison.OrdinalIgnoreCase)
            ? new MemoryCacheStore(maxBytes, time)
            : new SqliteCacheStore(Path.GetFullPath(options.Path ?? DefaultPath), maxBytes, time, loggers?.CreateLogger<SqliteCacheStore>());
    }
}
