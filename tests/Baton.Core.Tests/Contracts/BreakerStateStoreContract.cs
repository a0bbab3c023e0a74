using Baton.Resilience;

namespace Baton.Core.Tests.Contracts;

/// <summary>
/// What every <see cref="IBreakerStateStore"/> does, run against each implementation (memory here; Redis in the
/// gateway tests): a breaker reported open by one view is open in every view until its break ends or it closes.
/// A shared store carries the news in the background, so the other view is polled for up to a second.
/// </summary>
public abstract class BreakerStateStoreContract : IAsyncLifetime
{
    /// <summary>Two views of one shared state (the same object for an in-process store).</summary>
    protected abstract (IBreakerStateStore First, IBreakerStateStore Second) CreatePair();

    protected abstract DateTimeOffset Now { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_breaker_opened_in_one_view_is_open_in_the_other_until_it_closes()
    {
        var (first, second) = CreatePair();
        var deployment = "p/" + Guid.NewGuid().ToString("N");
        var until = Now + TimeSpan.FromSeconds(30);

        Assert.Null(second.OpenUntil(deployment));
        first.ReportOpened(deployment, until);

        var seen = await Eventually(() => second.OpenUntil(deployment) is not null);
        Assert.True(seen, "the other view saw the breaker open within a second");
        Assert.InRange(second.OpenUntil(deployment)!.Value, until - TimeSpan.FromSeconds(1), until + TimeSpan.FromSeconds(1));

        first.ReportClosed(deployment);
        Assert.True(await Eventually(() => second.OpenUntil(deployment) is null), "the other view saw it close within a second");
    }

    [Fact]
    public async Task A_break_that_is_over_is_not_open()
    {
        var (first, second) = CreatePair();
        var deployment = "p/" + Guid.NewGuid().ToString("N");
        var other = "p/" + Guid.NewGuid().ToString("N");

        first.ReportOpened(deployment, Now - TimeSpan.FromSeconds(1));
        first.ReportOpened(other, Now + TimeSpan.FromSeconds(30));
        Assert.True(await Eventually(() => second.OpenUntil(other) is not null));

        Assert.Null(second.OpenUntil(deployment));
    }

    /// <summary>Polls <paramref name="condition"/> for up to a second of real time (the background delivery of a shared store).</summary>
    protected static async Task<bool> Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(10);
        }
        return condition();
    }
}
