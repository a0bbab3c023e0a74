using Baton.Caching;
using Baton.Providers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Baton.Core.Tests.Caching;

/// <summary>
/// The SQLite store's write-behind queue, in-memory level and batched eviction, on real files: what a request sees
/// at once, what the file holds after a flush or a dispose, and what happens when the file breaks.
/// </summary>
public sealed class SqliteCacheStoreTests : SqliteCacheFileTests
{
    private SqliteCacheStore Create(long maxBytes = 1 << 20, ILogger<SqliteCacheStore>? logger = null) => new(File, maxBytes, Time, logger);

    [Fact]
    public async Task A_saved_answer_is_found_at_once_and_is_in_the_file_after_a_flush()
    {
        await using var store = Create();
        var saved = Answer("k1", bodyBytes: 10);
        store.Save(saved);

        Assert.Same(saved, store.Find("k1"));

        await store.FlushAsync();
        Assert.Equal(1, Rows("key = 'k1'"));
        await using var other = new SqliteCacheStore(File, 1 << 20, Time);
        var read = other.Find("k1");
        Assert.NotNull(read);
        Assert.Equal(saved.Body, read.Body);
        Assert.Equal(saved.Usage, read.Usage);
        Assert.Equal(saved.Expires, read.Expires);
    }

    [Fact]
    public async Task Every_field_of_an_answer_is_read_back_after_a_restart()
    {
        var body = System.Text.Encoding.UTF8.GetBytes("""{"id":"chatcmpl-1","choices":[{"message":{"content":"Grüße, 世界"}}]}""");
        var full = new CachedAnswer("k-full", "modèle", "provider/upstream-ü", body, TokenUsage.Of(11, 7, cached: 3, reasoning: 2),
            Time.GetUtcNow(), Time.GetUtcNow().AddSeconds(90));
        // Empty texts and an empty body stay empty (not NULL, which the table refuses).
        var empty = new CachedAnswer("k-empty", "", "", [], TokenUsage.Of(1, 1), Time.GetUtcNow(), Time.GetUtcNow().AddSeconds(30));
        using (var store = Create())
        {
            store.Save(full);
            store.Save(empty);
        }

        await using var reopened = Create();
        foreach (var saved in (CachedAnswer[])[full, empty])
        {
            var read = reopened.Find(saved.Key);
            Assert.NotNull(read);
            Assert.Equal(saved with { Body = read.Body }, read);
            Assert.Equal(saved.Body, read.Body);
        }
        Assert.Equal(full.Size + empty.Size, (await reopened.SizeAsync()).Bytes);
    }

    [Fact]
    public async Task Disposing_writes_every_queued_answer()
    {
        using (var store = Create())
        {
            for (var i = 0; i < 500; i++)
            {
                store.Save(Answer("k" + i));
            }
        }

        Assert.Equal(500, Rows());
        await using var reopened = Create();
        Assert.Equal(500, reopened.Size().Entries);
        Assert.NotNull(reopened.Find("k499"));
    }

    [Fact]
    public async Task An_expired_answer_is_not_served_from_the_queue_memory_or_file()
    {
        await using (var store = Create())
        {
            store.Save(Answer("short", ttlSeconds: 10));
            store.Save(Answer("long", ttlSeconds: 100));
            Time.Advance(TimeSpan.FromSeconds(10));
            // Still queued or in memory: the expiry is checked there too.
            Assert.Null(store.Find("short"));
            Assert.NotNull(store.Find("long"));
        }
        // The last commit dropped the expired row.
        Assert.Equal(0, Rows("key = 'short'"));

        await using (var store = Create())
        {
            store.Save(Answer("later", ttlSeconds: 10));
        }
        Assert.Equal(2, Rows());
        Time.Advance(TimeSpan.FromSeconds(10));

        await using var reopened = Create();
        // From the file: the row is there but expired.
        Assert.Null(reopened.Find("later"));
        Assert.Equal((1, Answer("long").Size), reopened.Size());
        Assert.Equal(1, Rows());
    }

    [Fact]
    public async Task A_newer_answer_for_a_key_replaces_the_older_one_everywhere()
    {
        await using var store = Create();
        store.Save(Answer("k", bodyBytes: 10));
        await store.FlushAsync();
        var newer = Answer("k", bodyBytes: 20);
        store.Save(newer);

        Assert.Same(newer, store.Find("k"));
        Assert.Equal((1, newer.Size), store.Size());
    }

    [Fact]
    public async Task The_file_never_holds_more_than_the_cap_and_keeps_the_most_recently_used()
    {
        var size = Answer("k00").Size;
        await using var store = Create(maxBytes: size * 10);
        // 40 answers saved in one go land in one batch (or a few): the batch's eviction keeps the cap.
        for (var i = 0; i < 40; i++)
        {
            store.Save(Answer($"k{i:00}"));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }
        await store.FlushAsync();
        Assert.Equal((10, size * 10), store.Size());
        Assert.Equal(10, Rows());
        Assert.Equal(10, Rows("key >= 'k30'"));

        // Using an old entry makes it recent: the next evictions take the others first.
        Assert.NotNull(store.Find("k30"));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        for (var i = 40; i < 49; i++)
        {
            store.Save(Answer($"k{i:00}"));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }
        await store.FlushAsync();

        Assert.Equal(10, Rows());
        Assert.Equal(1, Rows("key = 'k30'"));
        Assert.Equal(9, Rows("key >= 'k40'"));
        Assert.Null(store.Find("k31"));
        Assert.NotNull(store.Find("k30"));
    }

    [Fact]
    public async Task A_use_recorded_in_memory_reaches_the_file_and_orders_eviction_after_a_restart()
    {
        var size = Answer("x").Size;
        await using (var store = Create(maxBytes: size * 3))
        {
            store.Save(Answer("a"));
            Time.Advance(TimeSpan.FromMilliseconds(1));
            store.Save(Answer("b"));
            Time.Advance(TimeSpan.FromMilliseconds(1));
            store.Save(Answer("c"));
            await store.FlushAsync();
            Time.Advance(TimeSpan.FromMilliseconds(1));
            // Served from memory: the use is written behind, with the next batch.
            Assert.NotNull(store.Find("a"));
        }

        await using var reopened = Create(maxBytes: size * 3);
        reopened.Save(Answer("d"));
        await reopened.FlushAsync();

        Assert.Equal(0, Rows("key = 'b'"));
        Assert.Equal(3, Rows("key IN ('a', 'c', 'd')"));
    }

    [Fact]
    public async Task Purge_and_size_count_answers_still_queued()
    {
        await using var store = Create();
        store.Save(Answer("a", model: "Scout"));
        store.Save(Answer("b", model: "scout"));
        store.Save(Answer("c", model: "mistral"));

        Assert.Equal((3, Answer("a").Size * 3), store.Size());
        store.Save(Answer("d", model: "scout"));
        Assert.Equal(3, store.Purge("SCOUT"));
        Assert.Null(store.Find("a"));
        Assert.Null(store.Find("d"));
        Assert.NotNull(store.Find("c"));
        Assert.Equal(1, store.Size().Entries);

        Time.Advance(TimeSpan.FromMinutes(2));
        // An expired entry is neither live nor counted as purged.
        Assert.Equal(0, store.Purge());
        Assert.Equal((0, 0), store.Size());
    }

    [Fact]
    public async Task A_purge_by_another_process_is_seen_after_the_next_commit()
    {
        await using var gateway = Create();
        gateway.Save(Answer("k"));
        await gateway.FlushAsync();
        Assert.NotNull(gateway.Find("k"));

        using (var cli = Create())
        {
            Assert.Equal(1, cli.Purge());
        }
        await gateway.FlushAsync();

        Assert.Null(gateway.Find("k"));
        Assert.Equal((0, 0), gateway.Size());
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_when_the_store_opens()
    {
        System.IO.File.WriteAllText(File, "this is not a SQLite database, only some text long enough to have a header");

        var refused = Assert.Throws<SqliteException>(() => Create());
        Assert.Contains("not a database", refused.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_file_that_breaks_while_in_use_costs_cached_answers_not_requests()
    {
        var logger = new ListLogger();
        await using var store = Create(logger: logger);
        store.Save(Answer("before"));
        await store.FlushAsync();
        using (var other = Open())
        {
            using var drop = other.CreateCommand();
            drop.CommandText = "DROP TABLE cache_entries";
            drop.ExecuteNonQuery();
        }

        store.Save(Answer("after"));
        await store.FlushAsync();
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("failed", StringComparison.Ordinal));
        // Saved answers still in memory are served; a lookup that must read the broken file is a miss, logged.
        Assert.NotNull(store.Find("after"));
        Assert.Null(store.Find("never-saved"));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("Reading the cache file", StringComparison.Ordinal));
    }

    private sealed class ListLogger : ILogger<SqliteCacheStore>
    {
        private readonly List<(LogLevel Level, string Message)> _entries = [];

        public IReadOnlyList<(LogLevel Level, string Message)> Entries
        {
            get
            {
                lock (_entries)
                {
                    return [.. _entries];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries)
            {
                _entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
