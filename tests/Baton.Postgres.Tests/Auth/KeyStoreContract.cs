using System.Data.Common;
using Baton.Auth;
using Baton.Postgres.Auth;
using Baton.Postgres.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Postgres.Tests.Auth;

/// <summary>What every <see cref="IKeyStore"/> must do, run against the SQLite store and the PostgreSQL one.</summary>
public abstract class KeyStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Created = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    protected IKeyStore Store { get; private set; } = null!;

    protected abstract Task<IKeyStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual async Task DisposeAsync()
    {
        switch (Store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    private static VirtualKey Key(string id, int minutes = 0) => new()
    {
        Id = id,
        Name = "name of " + id,
        Hint = "bk-…" + id[^4..],
        CreatedAt = Created.AddMinutes(minutes),
        Models = ["gpt-sim", "local-sim"],
        Rpm = 60,
        Tpm = 10_000,
        MaxParallel = 3,
        BudgetUsd = 12.345678m,
        BudgetPeriod = "daily",
        ExpiresAt = Created.AddDays(30),
        Tags = ["team-a", "ci"],
        MetadataJson = """{"owner":"ana","nested":{"n":1}}""",
    };

    [Fact]
    public async Task A_created_key_is_found_by_its_hash_and_by_its_id_with_every_setting()
    {
        var key = Key("key_000000000001");
        await Store.CreateAsync(key, "hash-1", CancellationToken.None);

        var byHash = await Store.FindByHashAsync("hash-1", CancellationToken.None);
        var byId = await Store.GetAsync(key.Id, CancellationToken.None);

        foreach (var found in new[] { byHash, byId })
        {
            Assert.NotNull(found);
            Assert.Equal(key.Id, found.Id);
            Assert.Equal(key.Name, found.Name);
            Assert.Equal(key.Hint, found.Hint);
            Assert.Equal(key.CreatedAt, found.CreatedAt);
            Assert.Equal(key.Models, found.Models);
            Assert.Equal((60, 10_000, 3), (found.Rpm, found.Tpm, found.MaxParallel));
            Assert.Equal(12.345678m, found.BudgetUsd);
            Assert.Equal("daily", found.BudgetPeriod);
            Assert.Equal(key.ExpiresAt, found.ExpiresAt);
            Assert.Equal(key.Tags, found.Tags);
            Assert.Equal(key.MetadataJson, found.MetadataJson);
            Assert.Null(found.RevokedAt);
        }
        Assert.Null(await Store.FindByHashAsync("hash-2", CancellationToken.None));
        Assert.Null(await Store.GetAsync("key_missing", CancellationToken.None));
    }

    [Fact]
    public async Task A_second_key_under_the_same_hash_or_id_is_refused()
    {
        await Store.CreateAsync(Key("key_000000000001"), "hash-1", CancellationToken.None);

        await Assert.ThrowsAnyAsync<DbException>(async () => await Store.CreateAsync(Key("key_000000000002"), "hash-1", CancellationToken.None));
        await Assert.ThrowsAnyAsync<DbException>(async () => await Store.CreateAsync(Key("key_000000000001"), "hash-2", CancellationToken.None));
        Assert.Single(await Store.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Keys_are_listed_oldest_first_revoked_ones_included()
    {
        await Store.CreateAsync(Key("key_00000000000c", minutes: 2), "hash-c", CancellationToken.None);
        await Store.CreateAsync(Key("key_00000000000a", minutes: 0), "hash-a", CancellationToken.None);
        await Store.CreateAsync(Key("key_00000000000b", minutes: 1) with { RevokedAt = Created.AddHours(1) }, "hash-b", CancellationToken.None);

        var listed = await Store.ListAsync(CancellationToken.None);

        Assert.Equal(["key_00000000000a", "key_00000000000b", "key_00000000000c"], listed.Select(k => k.Id));
        Assert.Equal(Created.AddHours(1), listed[1].RevokedAt);
    }

    [Fact]
    public async Task An_update_replaces_the_settings_and_keeps_the_secret_and_an_unknown_key_is_not_updated()
    {
        var key = Key("key_000000000001");
        await Store.CreateAsync(key, "hash-1", CancellationToken.None);

        var revokedAt = Created.AddDays(1);
        Assert.True(await Store.UpdateAsync(key with { Rpm = 5, Models = null, RevokedAt = revokedAt }, CancellationToken.None));
        Assert.False(await Store.UpdateAsync(Key("key_000000000009"), CancellationToken.None));

        var found = await Store.FindByHashAsync("hash-1", CancellationToken.None);
        Assert.Equal(5, found!.Rpm);
        Assert.Null(found.Models);
        Assert.Equal(revokedAt, found.RevokedAt);
        Assert.False(found.IsActive(Created.AddDays(2)));
        Assert.Null(await Store.GetAsync("key_000000000009", CancellationToken.None));
    }
}

public sealed class SqliteKeyStoreTests : KeyStoreContract
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-keys-").FullName;

    protected override Task<IKeyStore> CreateStoreAsync() => Task.FromResult<IKeyStore>(new SqliteKeyStore(Path.Combine(_directory, "baton.db")));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresKeyStoreTests(PostgresServer server) : KeyStoreContract
{
    private PostgresDatabase? _database;

    protected override async Task<IKeyStore> CreateStoreAsync()
    {
        _database = new PostgresDatabase(await server.CreateDatabaseAsync(), NullLogger<PostgresDatabase>.Instance);
        return new PostgresKeyStore(_database, TimeProvider.System, NullLogger<PostgresKeyStore>.Instance);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _database!.DisposeAsync();
    }
}
