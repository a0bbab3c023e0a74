using Baton.Accounting;
using Baton.Accounting.Ledger;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Core.Tests.Accounting;

/// <summary>The engine writes one ledger row per upstream attempt that billed tokens, streamed or not, and per cache hit.</summary>
public sealed class EngineAccountingTests : IAsyncLifetime, IDisposable
{
    private readonly TempDatabase _db = new();
    private readonly EngineHarness _harness = new();
    private LedgerWriter _ledger = null!;

    public Task InitializeAsync()
    {
        _ledger = new LedgerWriter(_db.Path, 100, NullLogger<LedgerWriter>.Instance);
        _harness.Options.Prices["m"] = new PriceOptions { Input = 2m, CachedInput = 1m, Output = 8m };
        _harness.Accounting = new CostAccountant(new PriceTable(_harness.Options.Prices), _harness.Time, _ledger);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
        _db.Dispose();
    }

    public void Dispose() => _db.Dispose();

    private async Task<CostReport> ReportAsync(CostGrouping grouping = CostGrouping.Model)
    {
        await _ledger.FlushAsync();
        return LedgerQuery.Run(_db.Path, new CostQuery(GroupBy: grouping));
    }

    [Fact]
    public async Task A_completion_is_priced_from_its_reported_usage()
    {
        _harness.Model("m1", "up");
        _harness.Provider("up").Answer(usage: TokenUsage.Of(1000, 200, cached: 400, reasoning: 50));

        using var result = (await _harness.CompleteAsync(EngineHarness.Request("m1", metadata: ""","user":"u1","metadata":{"session_id":"s9"}"""))).Result;

        // 600 * 2 + 400 * 1 + 200 * 8 = 3200 per million.
        Assert.Equal(0.0032m, result.CostUsd);
        var report = await ReportAsync();
        Assert.Equal(new CostTotals(0.0032m, 1, 1000, 400, 200, 50) { Attempts = 1 }, report.Total);
        Assert.Equal("s9", _db.Text("SELECT session FROM ledger"));
        Assert.Equal("u1", _db.Text("SELECT user FROM ledger"));
        Assert.Equal(0, _db.Scalar("SELECT estimated FROM ledger"));
    }

    [Fact]
    public async Task User_project_and_session_from_metadata_are_recorded()
    {
        _harness.Model("m1", "up");

        using var result = (await _harness.CompleteAsync(EngineHarness.Request("m1",
            metadata: ""","metadata":{"user_id":"developer_123","project_id":"aurelis","session_id":"session_456"}"""))).Result;

        await _ledger.FlushAsync();
        Assert.Equal("developer_123", _db.Text("SELECT user FROM ledger"));
        Assert.Equal("aurelis", _db.Text("SELECT project FROM ledger"));
        Assert.Equal("session_456", _db.Text("SELECT session FROM ledger"));
    }

    [Fact]
    public async Task A_stream_is_counted_from_the_usage_in_the_stream()
    {
        _harness.Model("m1", "up");
        _harness.Provider("up").Answer(usage: TokenUsage.Of(30, 12, reasoning: 5));

        await using (var stream = await _harness.Engine.StreamAsync(EngineHarness.Request("m1", stream: true), CancellationToken.None))
        {
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
            // Reading the last chunk does not record the answer: a reader sends its client the end first, then ends it.
            Assert.Equal(0m, stream.CostUsd);
            await stream.EndAsync();
            Assert.Equal(0.000156m, stream.CostUsd);
            await stream.EndAsync();
            Assert.Equal(0.000156m, stream.CostUsd);
        }

        Assert.Equal(new CostTotals(0.000156m, 1, 30, 0, 12, 5) { Attempts = 1 }, (await ReportAsync()).Total);
    }

    [Fact]
    public async Task A_stream_read_to_its_end_is_recorded_once_when_disposed_of_if_never_ended()
    {
        _harness.Model("m1", "up");
        _harness.Provider("up").Answer(usage: TokenUsage.Of(30, 12, reasoning: 5));

        var stream = await _harness.Engine.StreamAsync(EngineHarness.Request("m1", stream: true), CancellationToken.None);
        await foreach (var _ in stream.ReadAsync(CancellationToken.None))
        {
        }
        await stream.DisposeAsync();
        await stream.DisposeAsync();

        // Recorded as read to the end (200, its reported usage), not as a reader that left (499); once.
        Assert.Equal(new CostTotals(0.000156m, 1, 30, 0, 12, 5) { Attempts = 1 }, (await ReportAsync()).Total);
        Assert.Equal(1, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE status = 200"));
    }

    [Fact]
    public async Task A_cut_stream_resumed_elsewhere_is_two_rows_the_cut_one_estimated()
    {
        _harness.Model("m1", "a", "b");
        _harness.Provider("a").StreamThenBreak(2);
        _harness.Provider("b").Answer(usage: TokenUsage.Of(40, 10));

        TokenUsage? usage;
        decimal? cost;
        await using (var stream = await _harness.Engine.StreamAsync(EngineHarness.Request("m1", stream: true), CancellationToken.None))
        {
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
            // The cut segment's tokens are counted in the background: its cost is the answer's once that count is done.
            (usage, cost) = (stream.Usage, await stream.GetCostAsync());
        }

        // One client request, two billed attempts; the second continues the first, on another deployment of the model.
        var report = await ReportAsync();
        Assert.Equal(1, report.Total.Requests);
        Assert.Equal(2, report.Total.Attempts);
        Assert.Equal(1, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE estimated = 1 AND deployment = 'a/m' AND status = 502 AND completion_tokens > 0 AND continuation = 0"));
        Assert.Equal(1, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE estimated = 0 AND deployment = 'b/m' AND prompt_tokens = 40 AND continuation = 1 AND fallback = 1"));
        // The answer's usage is everything billed, so it matches the cost.
        Assert.Equal(report.Total.PromptTokens, usage!.Value.PromptTokens);
        Assert.Equal(report.Total.CompletionTokens, usage.Value.CompletionTokens);
        Assert.Equal(report.Total.CostUsd, cost);
    }

    [Fact]
    public async Task A_reader_that_stops_early_still_records_what_was_produced()
    {
        _harness.Model("m1", "up");
        await using (var stream = await _harness.Engine.StreamAsync(EngineHarness.Request("m1", stream: true), CancellationToken.None))
        {
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
                break;
            }
        }
        Assert.Equal(1, (await ReportAsync()).Total.Requests);
        Assert.Equal(499, _db.Scalar("SELECT status FROM ledger"));
    }

    [Fact]
    public async Task A_stream_without_usage_is_counted_in_the_background_and_its_cost_awaited()
    {
        _harness.Model("m1", "up");
        var stream = await _harness.Engine.StreamAsync(EngineHarness.Request("m1", stream: true), CancellationToken.None);
        await using (stream)
        {
            var read = 0;
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
                if (++read == 2)
                {
                    break;
                }
            }
        }

        // The client left after "up-0 ": no usage came, so Baton counted the text delivered.
        var cost = await stream.GetCostAsync();
        var report = await ReportAsync();
        Assert.Equal(cost, report.Total.CostUsd);
        Assert.Equal(PromptTokenCounter.Count("up-0 ", "m"), _db.Scalar("SELECT completion_tokens FROM ledger WHERE estimated = 1 AND status = 499"));
    }

    [Fact]
    public async Task Once_counting_stops_an_answer_without_usage_is_billed_at_a_rough_estimate()
    {
        _harness.Model("m1", "up");
        _harness.Accounting!.StopCounting();
        await using (var stream = await _harness.Engine.StreamAsync(EngineHarness.Request("m1", stream: true), CancellationToken.None))
        {
            var read = 0;
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
                if (++read == 3)
                {
                    break;
                }
            }
        }

        // "up-0 up-1 " is 10 characters: 3 tokens at four characters a token, where the tokenizer finds more.
        Assert.Equal(1, (await ReportAsync()).Total.Requests);
        Assert.Equal(3, _db.Scalar("SELECT completion_tokens FROM ledger WHERE estimated = 1 AND status = 499"));
        Assert.NotEqual(3, PromptTokenCounter.Count("up-0 up-1 ", "m"));
    }

    [Fact]
    public async Task A_cache_hit_is_a_free_row_flagged_as_cached()
    {
        _harness.Model("m1", "up");
        _harness.UseCache();
        using var result = (await _harness.CompleteAsync(EngineHarness.Request("m1"))).Result;
        using var hit = (await _harness.CompleteAsync(EngineHarness.Request("m1"))).Result;

        Assert.Equal(Baton.Caching.CacheStatus.Hit, hit.Route.Cache);
        Assert.Equal(0m, hit.CostUsd);
        var report = await ReportAsync();
        Assert.Equal(2, report.Total.Requests);
        // The hit is a request that cost nothing: counted as a hit, not an attempt, and its tokens were not billed.
        Assert.Equal(1, report.Total.CacheHits);
        Assert.Equal(1, report.Total.Attempts);
        Assert.Equal(10, report.Total.PromptTokens);
        Assert.Equal(result.CostUsd, report.Total.CostUsd);
        Assert.Equal(1, _db.Scalar("SELECT COUNT(*) FROM ledger WHERE cached = 1 AND cost_picousd = 0 AND prompt_tokens = 10"));
    }

    [Fact]
    public void Accounting_keys_are_validated_with_their_paths()
    {
        var options = new BatonOptions();
        options.Prices["gpt-4o"] = new PriceOptions { Input = -1 };
        options.Ledger.Path = ":memory:";
        options.Ledger.BatchSize = 0;
        options.Budgets.Limits["a"] = new BudgetLimitOptions { Scope = "team", Period = "weekly", SoftUsd = 5, HardUsd = 1 };
        options.Budgets.Limits["b"] = new BudgetLimitOptions { Scope = "global", Match = "x" };

        var errors = BatonOptionsValidator.Validate(options, _ => null);

        foreach (var expected in new[]
        {
            "prices.gpt-4o.input: -1 must not be negative.", "ledger.path: ':memory:' is not durable", "ledger.batchSize: 0",
            "budgets.limits.a.scope: unknown scope 'team'", "budgets.limits.a.period: unknown period 'weekly'", "budgets.limits.a.softUsd: 5 is above hardUsd 1",
            "budgets.limits.b.match: a global budget", "budgets.limits.b: set softUsd, hardUsd or both.",
        })
        {
            Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
        }
    }
}
