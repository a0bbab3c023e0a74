using Baton.Configuration;
using Baton.Gateway.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Hosting;

/// <summary>The host of <c>baton serve</c>.</summary>
public sealed class ServeHostTests
{
    [Fact]
    public async Task The_hosts_appsettings_are_read_but_the_working_directory_is_not_watched()
    {
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Models["m"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = "baton-sim-1" }] };
        // Built, not started: nothing is opened or written.
        await using var app = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, _ => null);

        // The ledger and the cache commit into the working directory many times a second; a watcher there woke
        // for every commit.
        var appsettings = ((IConfigurationBuilder)app.Configuration).Sources.OfType<JsonConfigurationSource>()
            .Where(source => source.Path?.StartsWith("appsettings", StringComparison.Ordinal) == true)
            .ToList();
        Assert.NotEmpty(appsettings);
        Assert.All(appsettings, source => Assert.False(source.ReloadOnChange, source.Path));
    }
}
