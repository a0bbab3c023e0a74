using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Baton.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// What the tests that drive Redis admission stores directly share: gateways (a connection and its admission store)
/// on one key prefix of the shared server, an admin connection that can pause it, and the unpause after each test.
/// </summary>
public abstract class RedisAdmissionStoreTests(RedisServer server, string prefix) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly List<IDisposable> _owned = [];
    private ConnectionMultiplexer? _admin;

    /// <summary>This test's key prefix, unique per test.</summary>
    protected string Prefix { get; } = prefix + "-" + Guid.NewGuid().ToString("N")[..8] + ":";

    /// <summary>A connection that may pause the server (CLIENT PAUSE) and reads what the gateways wrote.</summary>
    protected ConnectionMultiplexer Admin => _admin!;

    public async Task InitializeAsync() => _admin = await ConnectionMultiplexer.ConnectAsync(server.Connection + ",allowAdmin=true");

    public async Task DisposeAsync()
    {
        _owned.ForEach(o => o.Dispose());
        if (_admin is not null)
        {
            // A test that fails midway must not leave the shared server paused for the next one.
            await Control().ExecuteAsync("CLIENT", "UNPAUSE");
            await _admin.DisposeAsync();
        }
    }

    /// <summary>One gateway's connection and admission store, disposed after the test.</summary>
    protected (RedisConnection Connection, RedisAdmissionStore Admissions) Gateway(int timeoutMs, string failMode = RedisFailModes.Local)
    {
        var connection = new RedisConnection(new RedisOptions { Connection = server.Connection, Prefix = Prefix, TimeoutMs = timeoutMs, FailMode = failMode },
            NullLogger<RedisConnection>.Instance);
        var admissions = new RedisAdmissionStore(connection, null, NullLogger<RedisAdmissionStore>.Instance);
        _owned.Add(admissions);
        _owned.Add(connection);
        return (connection, admissions);
    }

    protected IServer Control() => Admin.GetServer(Admin.GetEndPoints()[0]);

    /// <summary>Polls for up to ten seconds of real time: the test waits on a real Redis.</summary>
    internal static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 500; i++)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(20);
        }
        return await condition();
    }
}
