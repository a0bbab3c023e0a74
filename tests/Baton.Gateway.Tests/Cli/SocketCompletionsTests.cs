using Baton.Cli;

namespace Baton.Gateway.Tests.Cli;

public sealed class SocketCompletionsTests
{
    private readonly Dictionary<string, string> _environment = [];

    private bool PreferInline() =>
        SocketCompletions.PreferInline(name => _environment.GetValueOrDefault(name), (name, value) => _environment[name] = value);

    [Fact]
    public void Unset_the_baton_process_runs_socket_continuations_inline()
    {
        Assert.True(PreferInline());
        Assert.Equal("1", _environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"]);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    public void A_value_the_environment_gives_is_kept(string given)
    {
        _environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = given;

        Assert.False(PreferInline());
        Assert.Equal(given, _environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"]);
    }

    [Fact]
    public void The_gateway_tests_run_their_gateways_as_baton_serve_does()
    {
        // Set by tests/inline-socket-completions.runsettings: without it, a blocking wait on the request path
        // would pass here and hang in production.
        Assert.Equal("1", Environment.GetEnvironmentVariable(SocketCompletions.Variable));
    }
}
