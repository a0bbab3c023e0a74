using Baton.Caching;
using Baton.Core.Tests.TestSupport;
using Baton.Providers;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Caching;

/// <summary>Both in-process stores on a fake clock: expiry, least-recently-used eviction, purge, and (SQLite) restarts. What every store does is in <c>CacheStoreContract</c>.</summary>
public sealed class CacheStoreTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ICacheStore Create(string kind, long maxBytes = 1 << 20) => kind == "memory"
        ? new MemoryCacheStore(maxBytes, _time)
        : new SqliteCacheStore(Path.Combine(_directory, "cache.db"), maxBytes, _time);

    private CachedAnswer Answer(string key, string model = "m", int bodyBytes = 100, double ttlSeconds = 60) =>
        new(key, model, "p/" + model, new byte[bodyBytes], TokenUsage.Of(10, 5, cached: 2, reasoning: 1), _time.GetUtcNow(), _time.GetUtcNow().AddSeconds(ttlSeconds));

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public void An_answer_is_found_until_it_expires(string kind)
    {
        using var store = Create(kind);
        store.Save(Answer("k1", ttlSeconds: 60));

        var found = store.Find("k1");
        Assert.NotNull(found);
        Assert.Equal(TokenUsage.Of(10, 5, cached: 2, reasoning: 1), found.Usage);
        Assert.Equal("p/m", found.Deployment);

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.NotNull(store.Find("k1"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(store.Find("k1"));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task Saving_a_key_again_replaces_its_answer_and_counts_its_bytes_once(string kind)
    {
        using var store = Create(kind);
        store.Save(Answer("k", bodyBytes: 100));
        store.Save(Answer("k", bodyBytes: 300));
        store.Save(Answer("k", bodyBytes: 200, ttlSeconds: 120));
        await store.FlushAsync();

        Assert.Equal(200, store.Find("k")!.Body.Length);
        Assert.Equal((1, Answer("k", bodyBytes: 200).Size), store.Size());
        // The last save's expiry holds: the earlier ones' 60 s have passed.
        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.NotNull(store.Find("k"));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(store.Find("k"));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task Past_the_size_cap_the_least_recently_used_answer_goes(string kind)
    {
        var oneEntry = Answer("x").Size;
        using var store = Create(kind, maxBytes: oneEntry * 3);
        store.Save(Answer("a"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        store.Save(Answer("b"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        store.Save(Answer("c"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.NotNull(store.Find("a"));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        store.Save(Answer("d"));
        // The SQLite store evicts when the writer commits the batch holding "d".
        await store.FlushAsync();

        Assert.Null(store.Find("b"));
        Assert.NotNull(store.Find("a"));
        Assert.NotNull(store.Find("c"));
        Assert.NotNull(store.Find("d"));
        Assert.Equal(3, store.Size().Entries);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public void Purge_empties_one_model_or_everything(string kind)
    {
        using var store = Create(kind);
        store.Save(Answer("a", model: "Scout"));
        store.Save(Answer("b", model: "scout"));
        store.Save(Answer("c", model: "mistral"));

        Assert.Equal(2, store.Purge("SCOUT"));
        Assert.Equal(1, store.Size().Entries);
        Assert.Equal(1, store.Purge());
        Assert.Equal((0, 0), store.Size());
    }

    [Fact]
    public void The_sqlite_store_survives_a_restart()
    {
        using (var first = Create("sqlite"))
        {
            first.Save(Answer("kept"));
        }
        using var second = Create("sqlite");
        Assert.NotNull(second.Find("kept"));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public void An_answer_larger_than_the_whole_cache_is_not_kept(string kind)
    {
        using var store = Create(kind, maxBytes: 2048);
        store.Save(Answer("huge", bodyBytes: 4096));
        Assert.Null(store.Find("huge"));
    }
}
