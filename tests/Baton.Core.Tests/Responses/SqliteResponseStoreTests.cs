using Baton.Configuration;
using Baton.Responses;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Baton.Core.Tests.Responses;

/// <summary>The contract of <see cref="IResponseStore"/> on a real SQLite file, and what is particular to it.</summary>
public sealed class SqliteResponseStoreTests : ResponseStoreContractTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-responses-").FullName;
    private readonly List<SqliteResponseStore> _stores = [];

    private string DatabasePath => Path.Combine(_directory, "data", "baton.db");

    protected override IResponseStore CreateStore()
    {
        var store = new SqliteResponseStore(DatabasePath);
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task Reads_deletes_and_purges_before_anything_is_stored_leave_no_file_behind()
    {
        var store = CreateStore();
        Assert.Null(await store.GetAsync("resp_a", CancellationToken.None));
        Assert.False(await store.DeleteAsync("resp_a", CancellationToken.None));
        Assert.Equal(0, await store.PurgeAsync(DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.False(File.Exists(DatabasePath));
    }

    [Fact]
    public async Task Responses_outlive_the_store_that_wrote_them()
    {
        var saved = new StoredResponse("resp_kept", "key_1", "m", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), "[]", "{}");
        using (var first = new SqliteResponseStore(DatabasePath))
        {
            await first.SaveAsync(saved, CancellationToken.None);
        }
        SqliteConnection.ClearAllPools();

        using var second = new SqliteResponseStore(DatabasePath);
        Assert.Equal(saved, await second.GetAsync("resp_kept", CancellationToken.None));
    }

    [Fact]
    public void The_retention_is_checked_and_the_section_is_known_to_the_configuration_checker()
    {
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Models["m"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = "x" }] };
        Assert.Empty(BatonOptionsValidator.Validate(options, _ => null));
        foreach (var days in new[] { 0, -1, double.NaN, 3651 })
        {
            options.Responses.RetentionDays = days;
            Assert.Contains("responses.retentionDays: must be greater than 0 and at most 3650.", BatonOptionsValidator.Validate(options, _ => null));
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["responses:retentionDays"] = "7.5",
            ["responses:path"] = "responses.db",
            ["responses:retentionDay"] = "7",
        }).Build();
        Assert.Equal(["responses.retentionDay: unknown key; did you mean retentionDays?"], ConfigurationChecker.Check(configuration, typeof(BatonOptions)));
        var bound = BatonConfigurationLoader.Bind(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["responses:retentionDays"] = "7.5",
        }).Build());
        Assert.Equal(TimeSpan.FromDays(7.5), bound.Responses.Retention);
        Assert.Equal(Path.GetFullPath(bound.Ledger.Path), bound.Responses.DatabasePath(bound));
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
