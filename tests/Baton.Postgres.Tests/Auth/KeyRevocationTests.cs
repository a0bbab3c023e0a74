using Baton.Auth;
using Baton.Postgres.Auth;
using Baton.Postgres.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Postgres.Tests.Auth;

/// <summary>Two gateways' key rings on one PostgreSQL database: keys made on one work on the other, and a revocation reaches both.</summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyRevocationTests(PostgresServer server) : IAsyncLifetime
{
    private const string Master = "master-key-for-tests-0123456789";
    private readonly List<IAsyncDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    private async Task<(KeyRing Ring, PostgresKeyStore Store)> GatewayAsync(string connection)
    {
        var database = new PostgresDatabase(connection, NullLogger<PostgresDatabase>.Instance);
        var store = new PostgresKeyStore(database, TimeProvider.System, NullLogger<PostgresKeyStore>.Instance);
        _owned.Add(database);
        _owned.Add(store);
        await store.Listening.WaitAsync(TimeSpan.FromSeconds(30));
        return (new KeyRing(store, Master, TimeProvider.System), store);
    }

    private static VirtualKey Settings(string name) => new() { Id = "", Hint = "", CreatedAt = default, Name = name };

    [Fact]
    public async Task A_key_made_on_one_gateway_works_on_the_other_and_its_revocation_reaches_the_others_cache()
    {
        var connection = await server.CreateDatabaseAsync();
        var (a, _) = await GatewayAsync(connection);
        var (b, storeB) = await GatewayAsync(connection);
        // Each change is announced once, in order; the timeouts only bound a failing test.
        using var notifications = new SemaphoreSlim(0);
        storeB.KeysChanged += (_, _) => notifications.Release();

        var (key, secret) = await a.CreateAsync(Settings("shared"), CancellationToken.None);
        Assert.True(await notifications.WaitAsync(TimeSpan.FromSeconds(30)));
        // B has never seen the key: it reads it from the database, then serves it from its cache.
        Assert.Equal(key.Id, (await b.AuthenticateAsync(secret, CancellationToken.None))!.Id);
        Assert.Equal(key.Id, (await b.AuthenticateAsync(secret, CancellationToken.None))!.Id);

        await a.RevokeAsync(key.Id, CancellationToken.None);
        // The notification is what clears B's cache.
        Assert.True(await notifications.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Null(await b.AuthenticateAsync(secret, CancellationToken.None));
        Assert.NotNull((await storeB.GetAsync(key.Id, CancellationToken.None))!.RevokedAt);
    }

    [Fact]
    public async Task An_update_on_one_gateway_is_seen_by_the_other_after_its_notification()
    {
        var connection = await server.CreateDatabaseAsync();
        var (a, _) = await GatewayAsync(connection);
        var (b, storeB) = await GatewayAsync(connection);
        using var notifications = new SemaphoreSlim(0);
        storeB.KeysChanged += (_, _) => notifications.Release();
        var (key, secret) = await a.CreateAsync(Settings("limits"), CancellationToken.None);
        Assert.True(await notifications.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Null((await b.AuthenticateAsync(secret, CancellationToken.None))!.Key!.Rpm);

        Assert.True(await a.UpdateAsync(key with { Rpm = 7 }, CancellationToken.None));
        Assert.True(await notifications.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(7, (await b.AuthenticateAsync(secret, CancellationToken.None))!.Key!.Rpm);
    }
}
