using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Accounting;

/// <summary>
/// A real gateway with a ledger and budgets in a temporary SQLite file, in front of a real HTTP simulator.
/// The simulated model is priced at $1 (input), $0.50 (cached input) and $2 (output) per million tokens.
/// </summary>
public sealed class AccountingGatewayServer : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-costs-").FullName;
    private WebApplication? _simulator;
    private WebApplication? _gateway;

    public string LedgerPath => Path.Combine(_directory, "ledger", "baton.db");

    public HttpClient Http { get; } = new();

    public async Task InitializeAsync()
    {
        _simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0", new SimulatorBehavior());
        await _simulator.StartAsync();
        var options = GatewayServer.CreateOptions(GatewayServer.AddressOf(_simulator));
        options.Ledger.Path = LedgerPath;
        options.Prices["baton-sim-1"] = new PriceOptions { Input = 1m, CachedInput = 0.5m, Output = 2m };
        options.Budgets.Limits["capped"] = new BudgetLimitOptions { Scope = "session", Match = "capped", HardUsd = 0.000001m };
        options.Budgets.Limits["watched"] = new BudgetLimitOptions { Scope = "session", Match = "watched", SoftUsd = 0.000001m, HardUsd = 10m };

        _gateway = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, name => name == "SIM_KEY" ? GatewayServer.Key : null);
        await _gateway.StartAsync();
        Http.BaseAddress = new Uri(GatewayServer.AddressOf(_gateway));
    }

    public long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={LedgerPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await GatewayServer.StopAsync(_gateway, _simulator);
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
