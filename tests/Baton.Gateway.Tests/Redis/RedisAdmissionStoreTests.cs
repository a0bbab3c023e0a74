using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Baton.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// What the tests that drive Redis admission stores directly share: gateways (a connection and its admission store)
/// on one key prefix of the shared server, with its own options.
/// </summary>
public abstract class RedisAdmissionStoreTests(RedisServer server, string prefix) : RedisServerTests(server)
{
    private readonly List<IDisposable> _owned = [];

    /// <summary>This test's key prefix, unique per test.</summary>
    protected string Prefix { get; } = prefix + "-" + Guid.NewGuid().ToString("N")[..8] + ":";

    public override async Task DisposeAsync()
    {
        _owned.ForEach(o => o.Dispose());
        await base.DisposeAsync();
    }

    /// <summary>One gateway's connection and admission store, disposed after the test.</summary>
    protected (RedisConnection Connection, RedisAdmissionStore Admissions) Gateway(int timeoutMs, string failMode = RedisFailModes.Local)
    {
        var connection = new RedisConnection(new RedisOptions { Connection = Server.Connection, Prefix = Prefix, TimeoutMs = timeoutMs, FailMode = failMode },
            NullLogger<RedisConnection>.Instance);
        var admissions = new RedisAdmissionStore(connection, null, NullLogger<RedisAdmissionStore>.Instance);
        _owned.Add(admissions);
        _owned.Add(connection);
        return (connection, admissions);
    }
}
