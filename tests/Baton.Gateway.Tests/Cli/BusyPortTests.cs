using System.Net;
using System.Net.Sockets;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Cli;

/// <summary>
/// A server command whose address is taken says so in one line, naming the address and the option that changes it.
/// The command runs as its own process, so that everything it writes (logs included) is seen.
/// </summary>
public sealed class BusyPortTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-busy-port-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string, string> Commands => new()
    {
        { "serve --urls http://127.0.0.1:{0}", "--urls" },
        { "simulate --port {0}", "--port" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task A_busy_port_is_one_line_without_a_stack_trace(string arguments, string option)
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        var (exit, output, error) = await RunBatonAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, arguments, port));

        Assert.Equal(3, exit);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal($"baton: cannot listen on http://127.0.0.1:{port}: the address is already in use (another Baton, or another program, holds it). Stop it, or choose another address with {option}.", line);
        Assert.DoesNotContain("Exception", output + error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
    }

    private Task<(int Exit, string Out, string Error)> RunBatonAsync(string arguments) => BatonProcess.RunAsync(_directory, arguments.Split(' '));
}
