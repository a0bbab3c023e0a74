using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Simulation;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Simulation;

/// <summary>The in-process simulator's pacing and faults, on a fake clock: nothing here sleeps.</summary>
public sealed class SimulatorProviderTests
{
    private static Baton.Providers.IChatProvider Simulator(FakeTimeProvider time, SimulatorBehavior? behavior = null) =>
        TestProviders.Create(ProviderTypes.Simulator, "http://unused", o => o.Simulator = behavior ?? new SimulatorBehavior(), time);

    [Fact]
    public async Task Answers_are_deterministic()
    {
        var time = new FakeTimeProvider();
        using var first = await Simulator(time).CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);
        using var second = await Simulator(time).CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);
        Assert.Equal(first.Body.ToArray(), second.Body.ToArray());
    }

    [Fact]
    public async Task The_first_token_waits_for_latency_and_time_to_first_token()
    {
        var time = new FakeTimeProvider();
        var provider = Simulator(time, new SimulatorBehavior { LatencyMs = 200, TimeToFirstTokenMs = 300, TokensPerSecond = 10 });
        await using var stream = await provider.StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true)), CancellationToken.None);
        var chunks = stream.ReadAsync(CancellationToken.None).GetAsyncEnumerator();

        var first = chunks.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(first.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await first);

        // Role chunk, then the first token at once, then one token per 100 ms.
        Assert.True(await chunks.MoveNextAsync());
        var third = chunks.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(third.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await third);
        await chunks.DisposeAsync();
    }

    [Fact]
    public async Task A_hanging_upstream_times_out_on_the_injected_clock()
    {
        var time = new FakeTimeProvider();
        var call = Simulator(time).CompleteAsync(TestProviders.Request(TestProviders.Simple(), "baton-sim-1@hang"), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<BatonException>(() => call);
        Assert.Equal(504, error.StatusCode);
        Assert.Equal("upstream_timeout", error.Code);
    }

    [Fact]
    public async Task A_cancelled_caller_is_not_reported_as_a_timeout()
    {
        var time = new FakeTimeProvider();
        using var cancel = new CancellationTokenSource();
        var call = Simulator(time).CompleteAsync(TestProviders.Request(TestProviders.Simple(), "baton-sim-1@hang"), cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Theory]
    [InlineData("baton-sim-1@429:12", 429)]
    [InlineData("baton-sim-1@500", 500)]
    [InlineData("baton-sim-1@503", 503)]
    [InlineData("baton-sim-1@401", 401)]
    public async Task Faults_fail_like_the_http_provider(string model, int status)
    {
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Simulator(new FakeTimeProvider()).CompleteAsync(TestProviders.Request(TestProviders.Simple(), model), CancellationToken.None));
        Assert.Equal(status, error.UpstreamStatus);
        if (status == 429)
        {
            Assert.Equal(TimeSpan.FromSeconds(12), error.RetryAfter);
        }
    }

    [Fact]
    public async Task Max_tokens_cuts_the_answer_with_finish_reason_length()
    {
        using var completion = await Simulator(new FakeTimeProvider()).CompleteAsync(
            TestProviders.Request(TestProviders.Simple(extra: ",\"max_tokens\":3")), CancellationToken.None);
        Assert.Equal(3, completion.Usage.CompletionTokens);
        Assert.Contains("\"finish_reason\":\"length\"", System.Text.Encoding.UTF8.GetString(completion.Body.Span));
    }
}
