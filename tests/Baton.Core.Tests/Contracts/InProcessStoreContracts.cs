using Baton.Accounting.Budgets;
using Baton.Caching;
using Baton.RateLimiting;
using Baton.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Contracts;

/// <summary>The rate-limit contract on the in-memory store (one store: every view is the same object).</summary>
public sealed class InMemoryRateLimitStoreContractTests : RateLimitStoreContract
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private InMemoryRateLimitStore? _store;

    protected override IRateLimitStore Create() => _store ??= new InMemoryRateLimitStore(_time);

    protected override DateTimeOffset Now => _time.GetUtcNow();
}

/// <summary>The cache contract on the memory store.</summary>
public sealed class MemoryCacheStoreContractTests : CacheStoreContract
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    protected override ICacheStore Create(long maxBytes = 1 << 20) => new MemoryCacheStore(maxBytes, _time);

    protected override DateTimeOffset Now => _time.GetUtcNow();
}

/// <summary>The cache contract on the SQLite store, in a real file.</summary>
public sealed class SqliteCacheStoreContractTests : CacheStoreContract
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-cache-contract-").FullName;
    private int _files;

    protected override ICacheStore Create(long maxBytes = 1 << 20) =>
        new SqliteCacheStore(Path.Combine(_directory, $"cache{Interlocked.Increment(ref _files)}.db"), maxBytes, _time);

    protected override DateTimeOffset Now => _time.GetUtcNow();

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The breaker contract on the in-memory store.</summary>
public sealed class InMemoryBreakerStateStoreContractTests : BreakerStateStoreContract
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    protected override (IBreakerStateStore First, IBreakerStateStore Second) CreatePair()
    {
        var store = new InMemoryBreakerStateStore(_time);
        return (store, store);
    }

    protected override DateTimeOffset Now => _time.GetUtcNow();
}

/// <summary>The budget contract on the SQLite store: several connections to one real file.</summary>
public sealed class SqliteBudgetStoreContractTests : BudgetStoreContract
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-budget-contract-").FullName;
    private readonly List<SqliteBudgetStore> _stores = [];

    protected override IBudgetStore Create()
    {
        var store = new SqliteBudgetStore(Path.Combine(_directory, "baton.db"));
        _stores.Add(store);
        return store;
    }

    public override Task DisposeAsync()
    {
        _stores.ForEach(s => s.Dispose());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}
