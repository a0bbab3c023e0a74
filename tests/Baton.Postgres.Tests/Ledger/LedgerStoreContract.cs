using Baton.Accounting.Ledger;
using Baton.Postgres.Ledger;
using Baton.Postgres.Tests.TestSupport;
using Baton.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Postgres.Tests.Ledger;

/// <summary>What every <see cref="ILedgerStore"/> must do, run against the SQLite ledger and the PostgreSQL one.</summary>
public abstract class LedgerStoreContract : IAsyncLifetime
{
    protected static readonly DateTimeOffset Day1 = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);

    protected ILedgerStore Store { get; private set; } = null!;

    protected abstract Task<ILedgerStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    protected static LedgerEntry Row(string attempt, DateTimeOffset time, string model = "gpt-sim", decimal cost = 0.001m, int prompt = 100, int completion = 50,
        string? session = null, string? key = null, string? user = null, string? tags = null, bool cached = false, bool continuation = false) => new()
        {
            AttemptId = attempt,
            Time = time,
            Model = model,
            Deployment = model == "gpt-sim" ? "sim-http/baton-sim-1" : "sim-local/baton-sim-1",
            Usage = new TokenUsage(prompt, completion, prompt + completion, CachedPromptTokens: 10, ReasoningTokens: 5, CacheWritePromptTokens: 3),
            CostUsd = cost,
            Session = session,
            ApiKey = key,
            User = user,
            Tags = tags,
            Task = "code_generation",
            Tier = "premium",
            Cached = cached,
            Continuation = continuation,
            LatencyMs = 12.5,
        };

    private Task<CostReport> Query(CostQuery query) => Store.QueryAsync(query, CancellationToken.None).AsTask();

    [Fact]
    public async Task Totals_count_requests_attempts_cache_hits_and_billed_tokens_exactly()
    {
        await Store.WriteAsync(
        [
            Row("a1", Day1, cost: 0.000001m),
            Row("a2", Day1.AddMinutes(1), cost: 0.123456789012m),
            Row("a3", Day1.AddMinutes(2), cost: 0.5m, continuation: true),
            Row("a4", Day1.AddMinutes(3), cost: 0m, cached: true),
        ], CancellationToken.None);

        var total = (await Query(new CostQuery())).Total;

        Assert.Equal(0.623457789012m, total.CostUsd);
        Assert.Equal(3, total.Requests);
        Assert.Equal(3, total.Attempts);
        Assert.Equal(1, total.CacheHits);
        Assert.Equal(300, total.PromptTokens);
        Assert.Equal(30, total.CachedTokens);
        Assert.Equal(9, total.CacheWriteTokens);
        Assert.Equal(150, total.CompletionTokens);
        Assert.Equal(15, total.ReasoningTokens);
    }

    [Fact]
    public async Task A_row_written_again_by_its_attempt_id_is_kept_once_even_within_one_batch()
    {
        await Store.WriteAsync([Row("a1", Day1), Row("a1", Day1), Row("a2", Day1)], CancellationToken.None);
        await Store.WriteAsync([Row("a2", Day1), Row("a3", Day1)], CancellationToken.None);

        var total = (await Query(new CostQuery())).Total;
        Assert.Equal(3, total.Requests);
        Assert.Equal(0.003m, total.CostUsd);
    }

    [Fact]
    public async Task Filters_select_by_session_key_model_user_tag_and_time_range()
    {
        await Store.WriteAsync(
        [
            Row("a1", Day1, session: "s1", key: "key_a", user: "ana", tags: "team-a,ci"),
            Row("a2", Day1.AddHours(1), session: "s1", key: "key_b", user: "bo", tags: "team-b", model: "local-sim"),
            Row("a3", Day1.AddDays(1), session: "s2", key: "key_a", tags: "100%"),
            Row("a4", Day1.AddDays(2)),
        ], CancellationToken.None);

        async Task<long> Count(CostQuery query) => (await Query(query)).Total.Requests;
        Assert.Equal(2, await Count(new CostQuery(SessionId: "s1")));
        Assert.Equal(2, await Count(new CostQuery { Key = "key_a" }));
        Assert.Equal(2, await Count(new CostQuery(ApiKey: "key_a")));
        Assert.Equal(1, await Count(new CostQuery { Model = "local-sim" }));
        Assert.Equal(1, await Count(new CostQuery { User = "bo" }));
        Assert.Equal(1, await Count(new CostQuery { Tag = "ci" }));
        Assert.Equal(0, await Count(new CostQuery { Tag = "team" }));
        // A tag is matched whole; '%' is a plain character.
        Assert.Equal(1, await Count(new CostQuery { Tag = "100%" }));
        Assert.Equal(0, await Count(new CostQuery { Tag = "%" }));
        Assert.Equal(2, await Count(new CostQuery(Since: Day1, Until: Day1.AddDays(1))));
        Assert.Equal(2, await Count(new CostQuery(Since: Day1.AddDays(1))));
        Assert.Equal(1, await Count(new CostQuery(SessionId: "s1", ApiKey: "key_b")));
    }

    [Fact]
    public async Task Breakdowns_group_by_model_day_provider_key_and_session_ordered_by_cost()
    {
        await Store.WriteAsync(
        [
            Row("a1", Day1, cost: 1m, session: "s1", key: "key_a"),
            Row("a2", Day1.AddDays(1), cost: 3m, model: "local-sim", user: "bo"),
            Row("a3", Day1.AddDays(1).AddHours(1), cost: 1m, model: "local-sim", key: "key_a"),
        ], CancellationToken.None);

        Assert.Equal([("local-sim", 4m), ("gpt-sim", 1m)], (await Query(new CostQuery(GroupBy: CostGrouping.Model))).Breakdown.Select(g => (g.Key, g.Totals.CostUsd)));
        Assert.Equal([("2026-03-02", 4m), ("2026-03-01", 1m)], (await Query(new CostQuery(GroupBy: CostGrouping.Day))).Breakdown.Select(g => (g.Key, g.Totals.CostUsd)));
        Assert.Equal([("sim-local", 4m), ("sim-http", 1m)], (await Query(new CostQuery(GroupBy: CostGrouping.Provider))).Breakdown.Select(g => (g.Key, g.Totals.CostUsd)));
        Assert.Equal([("user:bo", 3m), ("key_a", 2m)], (await Query(new CostQuery(GroupBy: CostGrouping.Key))).Breakdown.Select(g => (g.Key, g.Totals.CostUsd)));
        Assert.Equal([(LedgerQuery.None, 4m), ("s1", 1m)], (await Query(new CostQuery(GroupBy: CostGrouping.Session))).Breakdown.Select(g => (g.Key, g.Totals.CostUsd)));
        Assert.Equal(["premium"], (await Query(new CostQuery(GroupBy: CostGrouping.Tier))).Breakdown.Select(g => g.Key));
        Assert.Empty((await Query(new CostQuery(SessionId: "none"))).Breakdown);
    }

    [Fact]
    public async Task A_purge_deletes_the_rows_before_its_date_only()
    {
        await Store.WriteAsync([Row("a1", Day1), Row("a2", Day1.AddDays(10)), Row("a3", Day1.AddDays(40))], CancellationToken.None);

        Assert.Equal(2, await Store.PurgeAsync(Day1.AddDays(30), CancellationToken.None));
        Assert.Equal(0, await Store.PurgeAsync(Day1.AddDays(30), CancellationToken.None));

        var left = await Query(new CostQuery(GroupBy: CostGrouping.Day));
        Assert.Equal(["2026-04-10"], left.Breakdown.Select(g => g.Key));
    }
}

public sealed class SqliteLedgerStoreTests : LedgerStoreContract
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-ledger-").FullName;

    protected override Task<ILedgerStore> CreateStoreAsync() => Task.FromResult<ILedgerStore>(new SqliteLedgerStore(Path.Combine(_directory, "baton.db")));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerStoreTests(PostgresServer server) : LedgerStoreContract
{
    private PostgresDatabase? _database;

    protected override async Task<ILedgerStore> CreateStoreAsync()
    {
        _database = new PostgresDatabase(await server.CreateDatabaseAsync(), NullLogger<PostgresDatabase>.Instance);
        return new PostgresLedgerStore(_database);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _database!.DisposeAsync();
    }
}
