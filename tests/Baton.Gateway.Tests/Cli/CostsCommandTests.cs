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
    public async Task Prints_seed_002s_summary_and_a_breakdown()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "baton.json"), """{ "ledger": { "path": "spend.db" } }""");
        var (exit, output, error) = await RunAsync("costs", "--session", "session_123", "--group-by", "tier");

        Assert.True(exit == 0, error);
        Assert.Contains("Session session_123 Cost Summary:", output);
        Assert.Contains("Total Cost: $0.0123", output);
        Assert.Contains("Total Requests: 5", output);
        Assert.Contains("Input Tokens: 3,421", output);
        Assert.Contains("Output Tokens: 1,234", output);
        Assert.Contains("ORCHESTRATOR", output);
        Assert.Contains("REASONING", output);
    }

    [Fact]
    public async Task Exports_csv_and_json()
    {
        var (exit, csv, _) = await RunAsync("costs", "--ledger", "spend.db", "--session", "session_123", "--group-by", "day", "--format", "csv");
        Assert.Equal(0, exit);
        Assert.Equal(
            ["day,cost_usd,requests,prompt_tokens,cached_tokens,completion_tokens,reasoning_tokens", "2026-01-01,0.0107,2,1700,0,700,0",
             "2026-01-02,0.0016,3,1721,0,534,0", "(total),0.0123,5,3421,0,1234,0"],
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
