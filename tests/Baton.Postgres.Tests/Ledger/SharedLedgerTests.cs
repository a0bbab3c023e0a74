using System.Text.Json;
using System.Threading.Channels;
using Baton.Accounting.Ledger;
using Baton.Cli;
using Baton.Configuration;
using Baton.Gateway;
using Baton.Hosting;
using Baton.Postgres.Ledger;
using Baton.Postgres.Tests.Gateway;
using Baton.Postgres.Tests.TestSupport;
using Baton.Providers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Postgres.Tests.Ledger;

/// <summary>The shared ledger outside the request path: <c>ledger.retentionDays</c> on a gateway's clock, and <c>baton costs</c>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SharedLedgerTests(PostgresServer server) : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-shared-ledger-").FullName;
    private string _connection = "";
    private PostgresDatabase? _database;
    private PostgresLedgerStore? _store;

    public async Task InitializeAsync()
    {
        _connection = await server.CreateDatabaseAsync();
        _database = new PostgresDatabase(_connection, NullLogger<PostgresDatabase>.Instance);
        _store = new PostgresLedgerStore(_database);
    }

    public async Task DisposeAsync()
    {
        await _database!.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static LedgerEntry Row(string attempt, DateTimeOffset time, decimal cost = 0.25m) => new()
    {
        AttemptId = attempt, Time = time, Model = "local-sim", Deployment = "sim-local/baton-sim-1", Usage = TokenUsage.Of(10, 5), CostUsd = cost,
        Session = "s1",
    };

    private async Task<long> RowsAsync() => (await _store!.QueryAsync(new CostQuery(), CancellationToken.None)).Total.Requests;

    [Fact]
    public async Task Retention_deletes_rows_older_than_its_days_at_start_and_again_each_hour_of_the_gateways_clock()
    {
        await _store!.WriteAsync([Row("old", Now.AddDays(-31)), Row("recent", Now.AddDays(-30).AddMinutes(30))], CancellationToken.None);
        var time = new FakeTimeProvider(Now);
        var options = SharedGateways.Options(_connection, _directory);
        options.Ledger.RetentionDays = 30;
        var purges = new PurgeLog();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(purges);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddBaton(options, name => name == SharedGateways.MasterKeyVariable ? SharedGateways.MasterKey : null);
        builder.Services.AddBatonPostgres(options);
        builder.Services.AddBatonGateway();
        await using var app = builder.Build();
        app.MapBaton();
        await app.StartAsync();
        try
        {
            // The first purge runs as the gateway starts: the service says so once it is done.
            Assert.Equal(1, await purges.NextAsync());
            Assert.Equal(1, await RowsAsync());

            // The other row turns 30 days old half an hour after the start; the next purge, an hour of the gateway's clock later, deletes it.
            time.Advance(LedgerRetentionInterval);
            Assert.Equal(1, await purges.NextAsync());
            Assert.Equal(0, await RowsAsync());
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static TimeSpan LedgerRetentionInterval => Baton.Gateway.Hosting.LedgerRetentionService.Interval;

    [Fact]
    public async Task Baton_costs_with_a_postgres_connection_reads_the_shared_ledger()
    {
        await _store!.WriteAsync([Row("a1", Now, 0.25m), Row("a2", Now.AddMinutes(1), 0.5m)], CancellationToken.None);
        var config = Path.Combine(_directory, "baton.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { postgres = new { connection = _connection } }));

        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = CliConsole.CreatePlain(output, error, new StringReader(""), _directory);
        var exit = await BatonCli.RunAsync(["costs", "--config", config, "--format", "json"], console);

        Assert.True(exit == 0, error.ToString());
        var total = JsonDocument.Parse(output.ToString()).RootElement.GetProperty("total");
        Assert.Equal(0.75m, total.GetProperty("cost_usd").GetDecimal());
        Assert.Equal(2, total.GetProperty("requests").GetInt64());
        // No SQLite ledger was created or read.
        Assert.False(File.Exists(Path.Combine(_directory, "baton.db")));
    }

    /// <summary>
    /// The retention service's log: each purge it finished, with the rows it deleted, in order. The purge runs on the
    /// gateway's own loop; its log line is the signal that it is over, so nothing is polled.
    /// </summary>
    private sealed class PurgeLog : ILoggerProvider
    {
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        /// <summary>The rows the next purge deleted; a purge that failed fails the test. The real-time bound only ends a test that fails.</summary>
        public async Task<long> NextAsync()
        {
            var line = await _lines.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.StartsWith("Deleted ", line);
            return long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }

        public ILogger CreateLogger(string categoryName) =>
            categoryName == typeof(Baton.Gateway.Hosting.LedgerRetentionService).FullName ? new Lines(_lines.Writer) : NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class Lines(ChannelWriter<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.TryWrite(formatter(state, exception));
        }
    }
}
