using System.Text;
using Baton.Caching;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Providers;
using Baton.Requests;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Caching;

/// <summary>
/// An answer saved again while the same one is held and fresh is kept, not rewritten: only when nothing but a
/// far-off expiry would change, and never past half its time to live, so its expiry is still refreshed honestly.
/// </summary>
public sealed class IdenticalAnswerTests : IDisposable
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"chatcmpl-1","choices":[{"finish_reason":"stop"}]}""");
    private static readonly TokenUsage Usage = TokenUsage.Of(10, 5);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-cache-identical-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ICacheStore Create(string kind) => kind == "memory"
        ? new MemoryCacheStore(1 << 20, _time)
        : new SqliteCacheStore(Path.Combine(_directory, "cache.db"), 1 << 20, _time);

    private CachedAnswer Saved(ICacheStore store, double ttlSeconds = 60)
    {
        var answer = new CachedAnswer("k", "m", "p/m", Body, Usage, _time.GetUtcNow(), _time.GetUtcNow().AddSeconds(ttlSeconds));
        store.SaveAsync(answer).AsTask().GetAwaiter().GetResult();
        return answer;
    }

    private CachedAnswer? Equivalent(ICacheStore store, byte[]? body = null, TokenUsage? usage = null, string deployment = "p/m", double ttlSeconds = 60) =>
        ((IHoldsAnswers)store).FindEquivalent("k", "m", deployment, body ?? (byte[])Body.Clone(), usage ?? Usage, _time.GetUtcNow(),
            _time.GetUtcNow().AddSeconds(ttlSeconds));

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public void The_same_answer_is_kept_while_more_than_half_its_time_to_live_remains(string kind)
    {
        using var store = Create(kind);
        var held = Saved(store);

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Same(held, Equivalent(store));
        _time.Advance(TimeSpan.FromSeconds(1));
        // 29 s left of 60: saving it again is what refreshes its expiry.
        Assert.Null(Equivalent(store));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public void Any_difference_means_the_answer_is_saved(string kind)
    {
        using var store = Create(kind);
        Assert.Null(Equivalent(store));
        Saved(store);

        var otherBytes = (byte[])Body.Clone();
        otherBytes[^3] = (byte)'x';
        Assert.Null(Equivalent(store, body: otherBytes));
        Assert.Null(Equivalent(store, usage: TokenUsage.Of(10, 6)));
        Assert.Null(Equivalent(store, deployment: "q/m"));
        // A save with a shorter time to live must shorten the held answer's: it is written.
        Assert.Null(Equivalent(store, ttlSeconds: 30));
        Assert.NotNull(Equivalent(store));
    }

    [Fact]
    public async Task A_kept_answer_counts_as_a_use_for_eviction()
    {
        var path = Path.Combine(_directory, "cache.db");
        var held = new CachedAnswer("k", "m", "p/m", Body, Usage, _time.GetUtcNow(), _time.GetUtcNow().AddSeconds(60));
        await using (var store = new SqliteCacheStore(path, held.Size * 2, _time))
        {
            store.Save(held);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            store.Save(held with { Key = "o" });
            await store.FlushAsync();
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Same(held, Equivalent(store));
            Assert.Equal(1, store.KeptSaves);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            // A third answer evicts the least recently used: "o", since "k" was just kept.
            store.Save(held with { Key = "t" });
            await store.FlushAsync();
        }

        await using var reopened = new SqliteCacheStore(path, held.Size * 2, _time);
        Assert.NotNull(reopened.Find("k"));
        Assert.Null(reopened.Find("o"));
    }

    [Fact]
    public async Task Requests_that_skip_the_lookup_keep_the_stored_answer_and_still_refresh_its_expiry()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        await using var store = new SqliteCacheStore(Path.Combine(_directory, "cache.db"), 1 << 20, harness.Time);
        harness.UseCache(CacheModes.On, store, ttlSeconds: 60);
        static ChatRequest NoCache()
        {
            var request = EngineHarness.Request("m");
            request.Options = request.Options with { Cache = CacheDirectives.Default.WithCacheControl("no-cache") };
            return request;
        }

        await harness.CompleteAsync(EngineHarness.Request("m"));
        harness.Time.Advance(TimeSpan.FromSeconds(20));
        var (kept, _) = await harness.CompleteAsync(NoCache());
        Assert.Equal(CacheStatus.Miss, kept.Route.Cache);
        Assert.Equal(1, store.KeptSaves);

        // Past half the time to live the identical answer is written again, with a new expiry (35 + 60 s).
        harness.Time.Advance(TimeSpan.FromSeconds(15));
        await harness.CompleteAsync(NoCache());
        Assert.Equal(1, store.KeptSaves);
        harness.Time.Advance(TimeSpan.FromSeconds(50));
        var (after, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(CacheStatus.Hit, after.Route.Cache);
        Assert.Equal(3, harness.Provider("a").Calls);
        await store.FlushAsync();
        Assert.Equal(1, store.Size().Entries);
    }
}
