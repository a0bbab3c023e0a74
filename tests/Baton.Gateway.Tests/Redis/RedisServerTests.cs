using Baton.Gateway.Tests.TestSupport;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.Redis;

/// <summary>
/// What the tests that drive Redis-backed stores directly share: gateway instances' views of their class's server
/// (<see cref="Views"/>, under a prefix of their own) and an admin connection that reads what they wrote, and may
/// change it behind their back, pause the server or kill its clients (<see cref="Admin"/>, <see cref="Control"/>).
/// </summary>
public abstract class RedisServerTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private ConnectionMultiplexer? _admin;

    /// <summary>The class's own redis-server.</summary>
    protected RedisServer Server { get; } = server;

    private protected RedisViews Views { get; } = new(server);

    protected ConnectionMultiplexer Admin => _admin!;

    protected IServer Control() => Admin.GetServer(Admin.GetEndPoints()[0]);

    public async Task InitializeAsync() => _admin = await ConnectionMultiplexer.ConnectAsync(Server.Connection + ",allowAdmin=true");

    public virtual async Task DisposeAsync()
    {
        Views.Close();
        if (_admin is not null)
        {
            // A test that fails midway must not leave its server paused for the next one.
            await Control().ExecuteAsync("CLIENT", "UNPAUSE");
            await _admin.DisposeAsync();
        }
    }
}
