using Baton.Analysis;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Security;

/// <summary>
/// A real gateway on 127.0.0.1 with the in-process simulator, the built-in <c>project-analysis</c> pipeline and its
/// stores in a temporary folder; <paramref name="configure"/> changes its options before it starts.
/// </summary>
public sealed class SecurityGateway : IAsyncDisposable
{
    private readonly string _folder;
    private readonly WebApplication _app;

    private SecurityGateway(string folder, WebApplication app)
    {
        _folder = folder;
        _app = app;
        BaseUrl = GatewayServer.AddressOf(app);
        Port = new Uri(BaseUrl).Port;
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
    }

    public string BaseUrl { get; }

    public int Port { get; }

    public HttpClient Http { get; }

    public static async Task<SecurityGateway> StartAsync(Action<BatonOptions>? configure = null)
    {
        var folder = Directory.CreateTempSubdirectory("baton-security-").FullName;
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        foreach (var (name, upstream) in ProjectAnalysisPipeline.OpenRouterModels)
        {
            options.Models[name] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = upstream }] };
        }
        options.Gateway.MaxRequestBodyBytes = 64 * 1024;
        options.Ledger.Path = Path.Combine(folder, "baton.db");
        options.Batch.JobsDatabase = Path.Combine(folder, "baton-batches.db");
        configure?.Invoke(options);
        var app = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, _ => null);
        await app.StartAsync();
        return new SecurityGateway(folder, app);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>One <see cref="SecurityGateway"/> with the default options for a whole test class.</summary>
public sealed class DefaultSecurityGateway : IAsyncLifetime
{
    public SecurityGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await SecurityGateway.StartAsync();

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}
