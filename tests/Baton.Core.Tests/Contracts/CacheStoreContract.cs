using Baton.Caching;
using Baton.Providers;

namespace Baton.Core.Tests.Contracts;

/// <summary>
/// What every <see cref="ICacheStore"/> does, run against each implementation (memory and SQLite here; Redis in
/// the gateway tests). Expiry on a fake clock is tested per store; this suite lets no time pass.
/// </summary>
public abstract class CacheStoreContract : IAsyncLifetime
{
    /// <summary>A store holding at most <paramref name="maxBytes"/>; a shared implementation gives another view of the same cache.</summary>
    protected abstract ICacheStore Create(long maxBytes = 1 << 20);

    /// <summary>A second, separate instance sharing the first's state; null when the store is not shared.</summary>
    protected virtual ICacheStore? CreateOtherInstance(long maxBytes = 1 << 20) => null;

    protected abstract DateTimeOffset Now { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    protected CachedAnswer Answer(string key, string model = "m", int bodyBytes = 100, double ttlSeconds = 600) =>
        new(_run + key, model + _run, "p/" + model, Enumerable.Range(0, bodyBytes).Select(i => (byte)i).ToArray(), TokenUsage.Of(10, 5, cached: 2, reasoning: 1),
            Now, Now.AddSeconds(ttlSeconds));

    [Fact]
    public async Task A_saved_answer_is_found_with_its_body_usage_and_route()
    {
        using var store = Create();
        var saved = Answer("k1", bodyBytes: 300);
        await store.SaveAsync(saved);

        var found = await store.FindAsync(saved.Key);

        Assert.NotNull(found);
        Assert.Equal(saved.Body, found.Body);
        Assert.Equal(TokenUsage.Of(10, 5, cached: 2, reasoning: 1), found.Usage);
        Assert.Equal("p/m", found.Deployment);
        Assert.Equal(saved.Model, found.Model);
        Assert.Equal(saved.Expires.ToUnixTimeMilliseconds(), found.Expires.ToUnixTimeMilliseconds());
        Assert.Null(await store.FindAsync(Answer("never-saved").Key));
    }

    [Fact]
    public async Task Saving_a_key_again_replaces_its_answer()
    {
        using var store = Create();
        await store.SaveAsync(Answer("k", bodyBytes: 100));
        await store.SaveAsync(Answer("k", bodyBytes: 200));
        await store.FlushAsync();

        Assert.Equal(200, (await store.FindAsync(Answer("k").Key))!.Body.Length);
    }

    [Fact]
    public async Task Purge_removes_one_models_answers_or_everything()
    {
        using var store = Create();
        await store.SaveAsync(Answer("a", model: "scout"));
        await store.SaveAsync(Answer("b", model: "scout"));
        await store.SaveAsync(Answer("c", model: "mistral"));
        await store.FlushAsync();

        Assert.Equal(2, await store.PurgeAsync(Answer("x", model: "scout").Model.ToUpperInvariant()));
        Assert.Null(await store.FindAsync(Answer("a").Key));
        Assert.NotNull(await store.FindAsync(Answer("c").Key));
        Assert.True(await store.PurgeAsync() >= 1);
        Assert.Null(await store.FindAsync(Answer("c").Key));
        Assert.Equal(0, (await store.SizeAsync()).Entries);
    }

    [Fact]
    public async Task An_answer_larger_than_the_whole_cache_is_not_kept()
    {
        using var store = Create(maxBytes: 2048);
        await store.SaveAsync(Answer("huge", bodyBytes: 4096));
        await store.FlushAsync();

        Assert.Null(await store.FindAsync(Answer("huge").Key));
    }

    [Fact]
    public async Task A_shared_store_serves_an_answer_saved_by_another_instance()
    {
        using var first = Create();
        using var second = CreateOtherInstance();
        if (second is null)
        {
            // Not shared: nothing to check beyond the other tests.
            Assert.Null(CreateOtherInstance());
            return;
        }
        var saved = Answer("shared");
        await first.SaveAsync(saved);
        await first.FlushAsync();

        var found = await second.FindAsync(saved.Key);

        Assert.NotNull(found);
        Assert.Equal(saved.Body, found.Body);
    }
}
