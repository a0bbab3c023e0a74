using Baton.Core.Tests.TestSupport;
using Baton.RateLimiting;

namespace Baton.Core.Tests.RateLimiting;

/// <summary>
/// A stream whose upstream answered but which fails before it reaches the caller: what it holds is given back at once,
/// not when the garbage collector finds it.
/// </summary>
public sealed class StreamStartFailureTests
{
    [Fact]
    public async Task A_started_stream_whose_rate_limit_snapshot_fails_gives_back_its_upstream_response_and_its_slot()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Limits("a", requestsPerMinute: 100, maxConcurrency: 1, maxQueueWaitSeconds: 0);
        var store = new SnapshotFailingStore(new InMemoryRateLimitStore(harness.Time)) { Failing = true };
        harness.RateLimitStore = store;

        var failure = await Assert.ThrowsAsync<IOException>(() => harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None));

        Assert.Equal(SnapshotFailingStore.Message, failure.Message);
        Assert.Equal(1, harness.Provider("a").StreamsDisposed);
        // With one slot and no queue wait, a slot still held would refuse the next stream.
        store.Failing = false;
        await using (var stream = await harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None))
        {
            var chunks = 0;
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
                chunks++;
            }
            Assert.True(chunks > 0);
        }
        Assert.Equal(2, harness.Provider("a").StreamsDisposed);
        Assert.Equal(2, harness.Provider("a").Requests.Count);
    }

    /// <summary>An in-memory store whose snapshot fails while <see cref="Failing"/>, as a shared store out of reach would.</summary>
    private sealed class SnapshotFailingStore(IRateLimitStore inner) : IRateLimitStore
    {
        public const string Message = "the shared rate-limit store is out of reach";

        public bool Failing { get; set; }

        public ValueTask<RateLimitDecision> TryTakeAsync(string bucket, RateLimitSettings limits, int tokens, CancellationToken cancellationToken = default) =>
            inner.TryTakeAsync(bucket, limits, tokens, cancellationToken);

        public ValueTask ChargeAsync(string bucket, RateLimitSettings limits, int requests, int tokens, CancellationToken cancellationToken = default) =>
            inner.ChargeAsync(bucket, limits, requests, tokens, cancellationToken);

        public ValueTask PauseUntilAsync(string bucket, RateLimitSettings limits, DateTimeOffset until, CancellationToken cancellationToken = default) =>
            inner.PauseUntilAsync(bucket, limits, until, cancellationToken);

        public ValueTask LowerToAsync(string bucket, RateLimitSettings limits, int? requests, int? tokens, CancellationToken cancellationToken = default) =>
            inner.LowerToAsync(bucket, limits, requests, tokens, cancellationToken);

        public ValueTask<RateLimitSnapshot?> SnapshotAsync(string bucket, RateLimitSettings limits, CancellationToken cancellationToken = default) =>
            Failing ? ValueTask.FromException<RateLimitSnapshot?>(new IOException(Message)) : inner.SnapshotAsync(bucket, limits, cancellationToken);
    }
}
