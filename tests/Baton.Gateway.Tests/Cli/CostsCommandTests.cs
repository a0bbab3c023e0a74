using Baton.Accounting.Ledger;
using Baton.Gateway.Tests.TestSupport;
using Baton.Providers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Gateway.Tests.Cli;

/// <summary><c>baton costs</c> over a real ledger file.</summary>
public sealed class CostsCommandTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-cli-costs-").FullName;

    public async Task InitializeAsync()
    {
        await using var writer = new LedgerWriter(Path.Combine(_directory, "spend.db"), 100, NullLogger<LedgerWriter>.Instance);
        var start = new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.Zero);
        // Seed 002's example summary: one orchestrator call, three reasoning calls, one fast call.
        (string Tier, int In, int Out, decimal Cost, int Day)[] rows =
        [
            ("ORCHESTRATOR", 1000, 500, 0.01m, 0), ("REASONING", 700, 200, 0.0007m, 0), ("REASONING", 700, 200, 0.0007m, 1),
            ("REASONING", 600, 200, 0.0006m, 1), ("FAST", 421, 134, 0.0003m, 1),
        ];
        foreach (var (tier, input, output, cost, day) in rows)
        {
            writer.TryRecord(new LedgerEntry
            {
                Time = start.AddDays(day), Session = "session_123", Tier = tier, Model = tier.ToLowerInvariant(), Deployment = "p/" + tier,
                Usage = TokenUsage.Of(input, output), CostUsd = cost,
            });
        }
        writer.TryRecord(new LedgerEntry { Time = start, Session = "other", Model = "x", Deployment = "p/x", Usage = TokenUsage.Of(1, 1), CostUsd = 5m });
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    private Task<(int Exit, string Out, string Error)> RunAsync(params string[] args) => CliRun.RunAsync(_directory, "", args);

    [Fact]
    public async Task Prints_seed_002s_summary_exactly_by_default()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "baton.json"), """{ "ledger": { "path": "spend.db" } }""");
        var (exit, output, error) = await RunAsync("costs", "--session", "session_123", "--group-by", "tier");

        Assert.True(exit == 0, error);
        Assert.Equal(
            """
            Session session_123 Cost Summary:
              Total Cost: $0.0123
              Total Requests: 5
              Input Tokens: 3,421
              Output Tokens: 1,234

            Model Breakdown:
              ORCHESTRATOR: $0.0100 (1 requests, 1000 in, 500 out)
              REASONING: $0.0020 (3 requests, 2000 in, 600 out)
              FAST: $0.0003 (1 requests, 421 in, 134 out)

            """.ReplaceLineEndings("\n"), output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task The_table_shows_every_count()
    {
        var (exit, output, error) = await RunAsync("costs", "--ledger", "spend.db", "--session", "session_123", "--group-by", "tier", "--format", "table");

        Assert.True(exit == 0, error);
        Assert.Contains("Total Requests: 5 (5 billed attempts, 0 cache hits)", output);
        Assert.Contains("Input Tokens: 3,421 (0 cached, 0 written to cache)", output);
        Assert.Contains("ORCHESTRATOR", output);
        Assert.Contains("Cache write", output);
    }

    [Fact]
    public async Task The_config_option_finds_the_ledger_its_file_configures()
    {
        // The gateway ran in the configuration's directory, with a relative ledger path; costs are read from elsewhere.
        var gatewayDirectory = Path.Combine(_directory, "gateway");
        Directory.CreateDirectory(Path.Combine(gatewayDirectory, "data"));
        File.Copy(Path.Combine(_directory, "spend.db"), Path.Combine(gatewayDirectory, "data", "costs.db"));
        var config = Path.Combine(gatewayDirectory, "baton.json");
        await File.WriteAllTextAsync(config, """{ "ledger": { "path": "data/costs.db" } }""");

        var (exit, output, error) = await RunAsync("costs", "--config", config, "--session", "other");

        Assert.True(exit == 0, error);
        Assert.Contains("Total Cost: $5.0000", output);
        Assert.Contains("Total Requests: 1", output);
    }

    [Fact]
    public async Task Exports_csv_and_json()
    {
        var (exit, csv, _) = await RunAsync("costs", "--ledger", "spend.db", "--session", "session_123", "--group-by", "day", "--format", "csv");
        Assert.Equal(0, exit);
        Assert.Equal(
            ["day,cost_usd,requests,attempts,cache_hits,prompt_tokens,cached_tokens,cache_write_tokens,completion_tokens,reasoning_tokens",
             "2026-01-01,0.0107,2,2,0,1700,0,0,700,0", "2026-01-02,0.0016,3,3,0,1721,0,0,534,0", "(total),0.0123,5,5,0,3421,0,0,1234,0"],
            csv.Trim().Split('\n'));

        var (_, json, _) = await RunAsync("costs", "--ledger", "spend.db", "--since", "2026-01-02", "--format", "json");
        var report = System.Text.Json.JsonDocument.Parse(json).RootElement;
        Assert.Equal(3, report.GetProperty("total").GetProperty("requests").GetInt64());
        Assert.Equal(0.0016m, report.GetProperty("total").GetProperty("cost_usd").GetDecimal());
    }

    [Fact]
    public async Task Bad_dates_and_missing_ledgers_are_reported_plainly()
    {
        var (exit, _, error) = await RunAsync("costs", "--ledger", "spend.db", "--since", "yesterday");
        Assert.Equal(2, exit);
        Assert.Contains("--since", error);

        (exit, _, error) = await RunAsync("costs", "--ledger", "nowhere.db");
        Assert.Equal(1, exit);
        Assert.Contains("no ledger", error);
    }
}
