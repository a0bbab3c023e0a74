using Baton.Caching;

namespace Baton.Core.Tests.Caching;

/// <summary>
/// The SQLite store's batched writer on real files: every save made from many threads lands, a stop writes what is
/// queued, and a writer held up by a locked file lets its queue fill to its bound and then drops (and counts) saves.
/// </summary>
public sealed class SqliteCacheWriterTests : SqliteCacheFileTests
{
    [Fact]
    public async Task Every_answer_saved_from_many_threads_at_once_lands_in_the_file()
    {
        await using (var store = new SqliteCacheStore(File, 1L << 30, Time))
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(thread => Task.Run(() =>
            {
                for (var i = 0; i < 250; i++)
                {
                    store.Save(Answer($"t{thread}-{i}"));
                }
            })));
            await store.FlushAsync();

            Assert.Equal(2000, Rows());
            Assert.Equal(0, store.DroppedSaves);
        }

        await using var reopened = new SqliteCacheStore(File, 1L << 30, Time);
        var bytes = Enumerable.Range(0, 8).Sum(thread => Enumerable.Range(0, 250).Sum(i => Answer($"t{thread}-{i}").Size));
        Assert.Equal((2000, bytes), reopened.Size());
        Assert.NotNull(reopened.Find("t7-249"));
    }

    [Fact]
    public async Task A_stop_while_the_writer_waits_for_the_file_writes_everything_queued()
    {
        var store = new SqliteCacheStore(File, 1L << 30, Time);
        var locked = LockFile();
        for (var i = 0; i < 300; i++)
        {
            store.Save(Answer("k" + i));
        }
        // The writer is stuck behind the lock; the stop must wait for it rather than lose the queue.
        var stopping = store.DisposeAsync().AsTask();
        Assert.False(stopping.IsCompleted);
        locked.Dispose();
        await stopping;

        Assert.Equal(300, Rows());
        Assert.Equal(0, store.DroppedSaves);
    }

    [Fact]
    public async Task A_full_queue_drops_further_saves_and_counts_them_without_losing_the_queued_ones()
    {
        var size = Answer("k0").Size;
        await using var store = new SqliteCacheStore(File, 1L << 30, Time, logger: null, maxQueuedBytes: size * 3);
        var locked = LockFile();
        for (var i = 0; i < 10; i++)
        {
            store.Save(Answer("k" + i));
        }

        // Nothing can be committed while the file is locked, so the queue holds exactly three answers.
        Assert.Equal(7, store.DroppedSaves);
        Assert.NotNull(store.Find("k2"));
        Assert.Null(store.Find("k3"));
        // A newer answer for a queued key replaces it in the queue: that is not a drop.
        store.Save(Answer("k1"));
        Assert.Equal(7, store.DroppedSaves);

        locked.Dispose();
        await store.FlushAsync();
        Assert.Equal(3, Rows());
        // Once written, the queue has room again.
        store.Save(Answer("k9"));
        await store.FlushAsync();
        Assert.Equal(4, Rows());
        Assert.Equal(7, store.DroppedSaves);
    }
}
