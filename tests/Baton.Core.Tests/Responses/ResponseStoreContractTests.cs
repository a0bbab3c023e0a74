using Baton.Responses;

namespace Baton.Core.Tests.Responses;

/// <summary>
/// What every <see cref="IResponseStore"/> must do, run against each implementation: a derived class says how to
/// create a fresh store.
/// </summary>
public abstract class ResponseStoreContractTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A new, empty store.</summary>
    protected abstract IResponseStore CreateStore();

    private static StoredResponse Response(string id, string? owner = "key_alice", DateTimeOffset? created = null) => new(
        id, owner, "baton-sim-1", created ?? Start,
        """[{"type":"message","id":"msg_1","role":"user","content":[{"type":"input_text","text":"héllo"}],"status":"completed"}]""",
        $$"""{"id":"{{id}}","object":"response","status":"completed","output":[]}""");

    [Fact]
    public async Task A_saved_response_reads_back_exactly()
    {
        var store = CreateStore();
        var saved = Response("resp_a");
        await store.SaveAsync(saved, CancellationToken.None);

        Assert.Equal(saved, await store.GetAsync("resp_a", CancellationToken.None));
        Assert.Null(await store.GetAsync("resp_b", CancellationToken.None));
    }

    [Fact]
    public async Task A_response_without_owner_keeps_a_null_owner()
    {
        var store = CreateStore();
        await store.SaveAsync(Response("resp_anonymous", owner: null), CancellationToken.None);

        Assert.Null((await store.GetAsync("resp_anonymous", CancellationToken.None))!.Owner);
    }

    [Fact]
    public async Task Saving_the_same_id_again_replaces_the_response()
    {
        var store = CreateStore();
        await store.SaveAsync(Response("resp_a"), CancellationToken.None);
        var replacement = Response("resp_a") with { Model = "other-model" };
        await store.SaveAsync(replacement, CancellationToken.None);

        Assert.Equal(replacement, await store.GetAsync("resp_a", CancellationToken.None));
    }

    [Fact]
    public async Task A_deleted_response_is_gone_and_deleting_it_again_says_so()
    {
        var store = CreateStore();
        await store.SaveAsync(Response("resp_a"), CancellationToken.None);

        Assert.True(await store.DeleteAsync("resp_a", CancellationToken.None));
        Assert.Null(await store.GetAsync("resp_a", CancellationToken.None));
        Assert.False(await store.DeleteAsync("resp_a", CancellationToken.None));
    }

    [Fact]
    public async Task Purging_removes_exactly_the_responses_created_before_the_limit()
    {
        var store = CreateStore();
        await store.SaveAsync(Response("resp_old", created: Start.AddDays(-31)), CancellationToken.None);
        await store.SaveAsync(Response("resp_edge", created: Start.AddDays(-30)), CancellationToken.None);
        await store.SaveAsync(Response("resp_new", created: Start), CancellationToken.None);

        Assert.Equal(1, await store.PurgeAsync(Start.AddDays(-30), CancellationToken.None));
        Assert.Null(await store.GetAsync("resp_old", CancellationToken.None));
        Assert.NotNull(await store.GetAsync("resp_edge", CancellationToken.None));
        Assert.NotNull(await store.GetAsync("resp_new", CancellationToken.None));
        Assert.Equal(0, await store.PurgeAsync(Start.AddDays(-30), CancellationToken.None));
    }
}
