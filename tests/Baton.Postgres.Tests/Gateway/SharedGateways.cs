using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Baton.Postgres.Tests.Gateway;

/// <summary>
/// Real gateways on 127.0.0.1, each with SQLite files of its own in a temporary folder, sharing one PostgreSQL
/// database through <c>postgres.connection</c>. They answer with the in-process simulator, priced at $1 (input) and
/// $2 (output) per million tokens, and require keys.
/// </summary>
public sealed class SharedGateways : IAsyncDisposable
{
    public const string MasterKeyVariable = "BATON_TEST_MASTER_KEY";
    public const string MasterKey = "mk-test-master-secret-0123456789";

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-shared-").FullName;
    private readonly List<WebApplication> _gateways = [];

    private SharedGateways()
    {
    }

    public IReadOnlyList<string> Urls => _gateways.Select(AddressOf).ToList();

    public static async Task<SharedGateways> StartAsync(string connection, int count)
    {
        var shared = new SharedGateways();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var app = BatonHosts.BuildGateway(Options(connection, Path.Combine(shared._directory, $"gateway-{i}")), "http://127.0.0.1:0", LogLevel.Warning,
                    name => name == MasterKeyVariable ? MasterKey : null);
                shared._gateways.Add(app);
                await app.StartAsync();
            }
        }
        catch
        {
            await shared.DisposeAsync();
            throw;
        }
        return shared;
    }

    /// <summary>A gateway's configuration: its own files in <paramref name="directory"/>, keys and the ledger in PostgreSQL.</summary>
    public static BatonOptions Options(string connection, string directory)
    {
        var options = new BatonOptions();
        options.Providers["sim-local"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Models["local-sim"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim-local", Model = "baton-sim-1" }] };
        options.Prices["baton-sim-1"] = new PriceOptions { Input = 1m, Output = 2m };
        options.Ledger.Path = Path.Combine(directory, "baton.db");
        options.Batch.JobsDatabase = Path.Combine(directory, "baton-batches.db");
        options.Auth.MasterKeyEnv = MasterKeyVariable;
        options.Postgres.Connection = connection;
        return options;
    }

    public HttpClient Client(int gateway, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(Urls[gateway]) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public IServiceProvider Services(int gateway) => _gateways[gateway].Services;

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string Chat(string content) => $$"""{"model":"local-sim","messages":[{"role":"user","content":"{{content}}"}]}""";

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static string AddressOf(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _gateways)
        {
            try
            {
                await app.StopAsync();
            }
            finally
            {
                await app.DisposeAsync();
            }
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
