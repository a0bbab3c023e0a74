using Baton.Client;
using Baton.Configuration;
using Baton.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Client;

/// <summary>The library face reports the answering deployment's remaining budget like the gateway's headers.</summary>
public sealed class RateLimitPropertiesTests
{
    [Fact]
    public async Task A_limited_deployment_reports_its_remaining_requests_and_reset()
    {
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator, RateLimits = new RateLimitOptions { RequestsPerMinute = 6 } };
        options.Models["assistant"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = "baton-sim-1" }] };
        // The library's clock, so the reset is exact however long the call takes on a busy machine.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
        await using var services = new ServiceCollection().AddSingleton<TimeProvider>(time).AddBaton(options).AddBatonSimulator().BuildServiceProvider();

        var response = await services.GetRequiredService<IChatClient>().GetResponseAsync("Name a colour.");

        var properties = response.AdditionalProperties!;
        Assert.Equal(5, properties[BatonResponseProperties.RateLimitRemaining]);
        var reset = Assert.IsType<DateTimeOffset>(properties[BatonResponseProperties.RateLimitReset]);
        // Six requests a minute: the one just spent is back ten seconds later.
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(10), reset);
    }
}
