namespace Baton.Configuration;

/// <summary>The response cache (<c>cache</c>): exact answers to identical requests, served without an upstream call.</summary>
public sealed class CacheOptions
{
    /// <summary><c>off</c> (the default), <c>on</c>, <c>read-only</c> (serve hits, store nothing) or <c>write-only</c> (store, never serve).</summary>
    public string? Mode { get; set; }

    /// <summary><c>sqlite</c> (the default: a file that survives restarts) or <c>memory</c>.</summary>
    public string? Store { get; set; }

    /// <summary>The SQLite file; default <c>baton-cache.db</c> in the working directory.</summary>
    public string? Path { get; set; }

    /// <summary>How long an answer stays servable. Default 3600 s; a model's <c>cacheTtlSeconds</c> wins.</summary>
    public double? TtlSeconds { get; set; }

    /// <summary>The cache's size cap; the least recently used answers go first. Default 256 MiB.</summary>
    public long? MaxBytes { get; set; }
}

/// <summary>Values of <see cref="CacheOptions.Mode"/>.</summary>
public static class CacheModes
{
    /// <summary>No lookups and no writes: the default.</summary>
    public const string Off = "off";
    /// <summary>Identical requests are answered from the cache, and new answers are stored.</summary>
    public const string On = "on";
    /// <summary>Hits are served, but no new answer is stored (a warmed cache kept as it is).</summary>
    public const string ReadOnly = "read-only";
    /// <summary>Answers are stored but never served (warming a cache without changing what callers get).</summary>
    public const string WriteOnly = "write-only";

    /// <summary>Every mode, for validation and error messages.</summary>
    public static readonly string[] All = [Off, On, ReadOnly, WriteOnly];
}
