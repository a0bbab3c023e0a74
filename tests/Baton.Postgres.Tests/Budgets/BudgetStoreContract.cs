using Baton.Accounting.Budgets;
using Baton.Postgres.Budgets;
using Baton.Postgres.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Postgres.Tests.Budgets;

/// <summary>What every <see cref="IBudgetStore"/> must do, run against the SQLite store and the PostgreSQL one.</summary>
public abstract class BudgetStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Expires = Now.AddMinutes(10);

    /// <summary>A store on the same state as every other this class creates (another gateway, another process).</summary>
    protected abstract Task<IBudgetStore> CreateStoreAsync();

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    [Fact]
    public async Task A_reservation_within_every_limit_is_granted_and_one_past_any_reserves_nothing()
    {
        var store = await CreateStoreAsync();
        BudgetCounter[] counters = [new("global", 10m), new("key:a", 2m)];

        var first = await store.TryReserveAsync("r1", counters, 1.5m, Now, Expires, CancellationToken.None);
        Assert.True(first.Granted);
        Assert.Equal([new BudgetState(0, 0), new BudgetState(0, 0)], first.Before);

        var second = await store.TryReserveAsync("r2", counters, 1m, Now, Expires, CancellationToken.None);
        Assert.False(second.Granted);
        Assert.Equal(1, second.RefusedBy);
        Assert.Equal(new BudgetState(0, 1.5m), second.Before[1]);
        // Refused on the key's counter: nothing was reserved on the global one either.
        Assert.Equal(new BudgetState(0, 1.5m), await store.GetAsync("global", Now, CancellationToken.None));
    }

    [Fact]
    public async Task Settling_drops_the_reservation_and_adds_the_real_cost_to_every_counter()
    {
        var store = await CreateStoreAsync();
        await store.TryReserveAsync("r1", [new("global", null), new("key:a", 5m)], 2m, Now, Expires, CancellationToken.None);

        await store.SettleAsync("r1", ["global", "key:a"], 0.123456789012m, CancellationToken.None);
        await store.SettleAsync("r-none", ["global"], 0m, CancellationToken.None);

        Assert.Equal(new BudgetState(0.123456789012m, 0), await store.GetAsync("global", Now, CancellationToken.None));
        Assert.Equal(new BudgetState(0.123456789012m, 0), await store.GetAsync("key:a", Now, CancellationToken.None));
        Assert.Equal(new BudgetState(0, 0), await store.GetAsync("key:b", Now, CancellationToken.None));
    }

    [Fact]
    public async Task An_expired_reservation_no_longer_counts()
    {
        var store = await CreateStoreAsync();
        await store.TryReserveAsync("dead", [new("global", 1m)], 1m, Now, Now.AddMinutes(1), CancellationToken.None);

        Assert.False((await store.TryReserveAsync("early", [new("global", 1m)], 0.5m, Now, Expires, CancellationToken.None)).Granted);
        var later = Now.AddMinutes(2);
        Assert.Equal(new BudgetState(0, 0), await store.GetAsync("global", later, CancellationToken.None));
        Assert.True((await store.TryReserveAsync("late", [new("global", 1m)], 1m, later, later.AddMinutes(10), CancellationToken.None)).Granted);
    }

    [Fact]
    public async Task Stores_reserving_at_once_never_grant_more_than_the_limit()
    {
        var stores = new List<IBudgetStore>();
        for (var i = 0; i < 3; i++)
        {
            stores.Add(await CreateStoreAsync());
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(async () =>
            (await stores[i % stores.Count].TryReserveAsync($"r{i}", [new("global", 5m), new($"user:{i % 2}", null)], 1m, Now, Expires,
                CancellationToken.None)).Granted)));

        Assert.Equal(5, results.Count(granted => granted));
        Assert.Equal(new BudgetState(0, 5m), await stores[0].GetAsync("global", Now, CancellationToken.None));
    }
}

public sealed class SqliteBudgetStoreTests : BudgetStoreContract
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-budgets-").FullName;
    private readonly List<SqliteBudgetStore> _stores = [];

    protected override Task<IBudgetStore> CreateStoreAsync()
    {
        var store = new SqliteBudgetStore(Path.Combine(_directory, "baton.db"));
        _stores.Add(store);
        return Task.FromResult<IBudgetStore>(store);
    }

    public override Task InitializeAsync() => Task.CompletedTask;

    public override Task DisposeAsync()
    {
        _stores.ForEach(store => store.Dispose());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresBudgetStoreTests(PostgresServer server) : BudgetStoreContract
{
    private readonly List<PostgresDatabase> _databases = [];
    private string _connection = "";

    protected override Task<IBudgetStore> CreateStoreAsync()
    {
        var database = new PostgresDatabase(_connection, NullLogger<PostgresDatabase>.Instance);
        _databases.Add(database);
        return Task.FromResult<IBudgetStore>(new PostgresBudgetStore(database));
    }

    public override async Task InitializeAsync() => _connection = await server.CreateDatabaseAsync();

    public override async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }
}
