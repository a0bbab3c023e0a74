using Baton.Caching;
using Baton.Providers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Caching;

/// <summary>
/// What the tests of the SQLite cache store share: a cache file in a temporary folder of its own (deleted after each
/// test), a fake clock, answers to save, and ways to look at the file from outside the store (its rows, its write lock).
/// </summary>
public abstract class SqliteCacheFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-sqlite-cache-").FullName;

    /// <summary>The stores' clock; it moves only when a test advances it.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>The cache file; not created until a store opens it.</summary>
    protected string File => Path.Combine(_directory, "cache.db");

    /// <summary>An answer stored now, expiring <paramref name="ttlSeconds"/> later, with a body of zeros.</summary>
    protected CachedAnswer Answer(string key, string model = "m", int bodyBytes = 100, double ttlSeconds = 60) =>
        new(key, model, "p/" + model, new byte[bodyBytes], TokenUsage.Of(10, 5, cached: 2, reasoning: 1), Time.GetUtcNow(), Time.GetUtcNow().AddSeconds(ttlSeconds));

    /// <summary>The rows of the file's cache table matching <paramref name="where"/>, read through a connection of its own.</summary>
    protected long Rows(string where = "1 = 1")
    {
        using var connection = Open();
        using var count = connection.CreateCommand();
        count.CommandText = $"SELECT COUNT(*) FROM cache_entries WHERE {where}";
        return (long)count.ExecuteScalar()!;
    }

    /// <summary>Takes the file's write lock from another connection, as another process writing it would; disposing releases it.</summary>
    protected SqliteConnection LockFile()
    {
        var connection = Open();
        using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE";
        begin.ExecuteNonQuery();
        return connection;
    }

    /// <summary>A connection to the file of its own, outside any store.</summary>
    protected SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={File};Pooling=False");
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}
