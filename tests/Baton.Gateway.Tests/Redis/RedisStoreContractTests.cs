using Baton.Accounting.Budgets;
using Baton.Caching;
using Baton.Configuration;
using Baton.Core.Tests.Contracts;
using Baton.Gateway.Tests.TestSupport;
using Baton.RateLimiting;
using Baton.Redis;
using Baton.Resilience;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Gateway.Tests.Redis;

/// <summary>Connections to the test's Redis under a prefix of their own, each a separate gateway instance's view.</summary>
internal sealed class RedisViews(RedisServer server)
{
    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N")[..8] + ":";
    private readonly List<RedisConnection> _connections = [];

    public RedisConnection Connect()
    {
        var connection = new RedisConnection(new RedisOptions { Connection = server.Connection, Prefix = _prefix, TimeoutMs = 2000 },
            NullLogger<RedisConnection>.Instance);
        _connections.Add(connection);
        return connection;
    }

    /// <summary>Closes every connection opened (called from the test class's DisposeAsync).</summary>
    public void Close() => _connections.ForEach(c => c.Dispose());
}

public sealed class RedisRateLimitStoreContractTests(RedisServer server) : RateLimitStoreContract, IClassFixture<RedisServer>
{
    private readonly RedisViews _views = new(server);

    protected override IRateLimitStore Create() => new RedisRateLimitStore(_views.Connect(), TimeProvider.System);

    protected override DateTimeOffset Now => DateTimeOffset.UtcNow;

    public override Task DisposeAsync()
    {
        _views.Close();
        return Task.CompletedTask;
    }
}

public sealed class RedisCacheStoreContractTests(RedisServer server) : CacheStoreContract, IClassFixture<RedisServer>
{
    private readonly RedisViews _views = new(server);

    protected override ICacheStore Create(long maxBytes = 1 << 20) => new RedisCacheStore(_views.Connect(), maxBytes, TimeProvider.System);

    protected override ICacheStore? CreateOtherInstance(long maxBytes = 1 << 20) => Create(maxBytes);

    protected override DateTimeOffset Now => DateTimeOffset.UtcNow;

    public override Task DisposeAsync()
    {
        _views.Close();
        return Task.CompletedTask;
    }
}

public sealed class RedisBreakerStateStoreContractTests(RedisServer server) : BreakerStateStoreContract, IClassFixture<RedisServer>
{
    private readonly RedisViews _views = new(server);

    protected override (IBreakerStateStore First, IBreakerStateStore Second) CreatePair() =>
        (new RedisBreakerStateStore(_views.Connect(), TimeProvider.System), new RedisBreakerStateStore(_views.Connect(), TimeProvider.System));

    protected override DateTimeOffset Now => DateTimeOffset.UtcNow;

    public override Task DisposeAsync()
    {
        _views.Close();
        return Task.CompletedTask;
    }
}

public sealed class RedisBudgetStoreContractTests(RedisServer server) : BudgetStoreContract, IClassFixture<RedisServer>
{
    private readonly RedisViews _views = new(server);
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-redis-budget-").FullName;
    private readonly List<SqliteBudgetStore> _local = [];

    protected override IBudgetStore Create()
    {
        var local = new SqliteBudgetStore(Path.Combine(_directory, $"local{_local.Count}.db"));
        _local.Add(local);
        return new RedisBudgetStore(_views.Connect(), local);
    }

    public override Task DisposeAsync()
    {
        _views.Close();
        _local.ForEach(s => s.Dispose());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}
