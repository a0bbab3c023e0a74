using Baton.Configuration;

namespace Baton.Caching;

/// <summary>Creates the configured cache store.</summary>
public static class CacheStores
{
    public const string Memory = "memory";
    public const string Sqlite = "sqlite";
    public const string DefaultPath = "baton-cache.db";
    public const long DefaultMaxBytes = 256L * 1024 * 1024;

    public static ICacheStore Create(CacheOptions options, TimeProvider time)
    {
        var maxBytes = options.MaxBytes ?? DefaultMaxBytes;
        return string.Equals(options.Store, Memory, StringComparison.OrdinalIgnoreCase)
            ? new MemoryCacheStore(maxBytes, time)
            : new SqliteCacheStore(Path.GetFullPath(options.Path ?? DefaultPath), maxBytes, time);
    }
}
