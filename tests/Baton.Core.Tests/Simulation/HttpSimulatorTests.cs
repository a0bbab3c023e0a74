using System.Net;
using System.Text;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Simulation;

/// <summary>The HTTP simulator's faults asked for with the header rather than the model name.</summary>
public sealed class HttpSimulatorTests(SimulatorServer simulator) : IClassFixture<SimulatorServer>
{
    private async Task<HttpResponseMessage> PostAsync(string fault, bool stream = false)
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Post, simulator.BaseUrl + "/v1/chat/completions")
        {
            Content = new StringContent(TestProviders.Simple(stream), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-baton-sim-fault", fault);
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task Header_fault_429_carries_retry_after()
    {
        using var response = await PostAsync("429:9");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(9), response.Headers.RetryAfter?.Delta);
        Assert.Contains("\"error\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Header_fault_503_is_an_openai_shaped_error()
    {
        using var response = await PostAsync("503");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("\"message\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_hang_is_ended_by_the_callers_timeout()
    {
        var time = new FakeTimeProvider();
        var provider = TestProviders.Create(ProviderTypes.OpenAi, simulator.BaseUrl + "/v1", time: time);
        var call = provider.CompleteAsync(TestProviders.Request(TestProviders.Simple(), "baton-sim-1@hang"), CancellationToken.None);
        await Task.Yield();
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<BatonException>(() => call);
        Assert.Equal("upstream_timeout", error.Code);
    }
}
