using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Core.Tests.Providers;

/// <summary>
/// What every HTTP provider makes of an upstream's faults, whatever its wire format, against the simulator's faults
/// (a model named <c>baton-sim-1@fault</c>): error statuses keep their status, type, message and retry delay; a cut or
/// malformed stream is an error, never a complete answer; a reset connection is an unavailable provider; no key is
/// ever in a message. Each provider's tests derive from it with the provider configured for the simulator.
/// </summary>
public abstract class SimulatedFaultsContract
{
    /// <summary>The provider under test, pointed at the simulator; named <c>test-</c> and its type.</summary>
    protected abstract IChatProvider Provider();

    [Theory]
    [InlineData("baton-sim-1@429:7", 429, ErrorTypes.RateLimit)]
    [InlineData("baton-sim-1@503", 503, ErrorTypes.Upstream)]
    [InlineData("baton-sim-1@401", 401, ErrorTypes.Authentication)]
    public async Task Upstream_errors_keep_status_message_and_provider(string model, int status, string type)
    {
        var provider = Provider();
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            provider.CompleteAsync(TestProviders.Request(TestProviders.Simple(), model), CancellationToken.None));

        Assert.Equal(status, error.UpstreamStatus);
        Assert.Equal(type, error.Type);
        Assert.Equal(provider.Name, error.Provider);
        Assert.Contains("(simulated)", error.Message);
        Assert.DoesNotContain(TestProviders.FakeKey, error.Message);
        Assert.Equal(status == 429 ? TimeSpan.FromSeconds(7) : null, error.RetryAfter);
    }

    [Fact]
    public async Task A_stream_cut_by_the_upstream_is_reported_not_passed_off_as_complete()
    {
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true), "baton-sim-1@cut:3"), CancellationToken.None);

        var error = await Assert.ThrowsAsync<BatonException>(() => TestProviders.ReadAllAsync(stream));
        Assert.Equal("stream_interrupted", error.Code);
    }

    [Fact]
    public async Task Malformed_json_is_a_502_whether_streamed_or_not()
    {
        var whole = await Assert.ThrowsAsync<BatonException>(() =>
            Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(), "baton-sim-1@malformed"), CancellationToken.None));
        await using var stream = await Provider().StreamAsync(TestProviders.Request(TestProviders.Simple(stream: true), "baton-sim-1@malformed"), CancellationToken.None);
        var streamed = await Assert.ThrowsAsync<BatonException>(() => TestProviders.ReadAllAsync(stream));

        Assert.Equal(502, whole.StatusCode);
        Assert.Equal("upstream_malformed_response", whole.Code);
        Assert.Equal("upstream_malformed_response", streamed.Code);
    }

    [Fact]
    public async Task A_reset_connection_is_reported_as_provider_unavailable()
    {
        var error = await Assert.ThrowsAsync<BatonException>(() =>
            Provider().CompleteAsync(TestProviders.Request(TestProviders.Simple(), "baton-sim-1@reset"), CancellationToken.None));

        Assert.Equal("provider_unavailable", error.Code);
        Assert.DoesNotContain(TestProviders.FakeKey, error.Message);
    }
}
