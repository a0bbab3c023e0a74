using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Baton.Gateway.Tests.TestSupport;

/// <summary>
/// A real <c>redis-server</c> on a free 127.0.0.1 port, in a temporary directory, with persistence off
/// (<c>--save '' --appendonly no</c>). A test may stop it (to see the gateways fail over) and start it again
/// on the same port.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-redis-").FullName;
    private Process? _process;

    public int Port { get; } = FreePort();

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Connection => $"127.0.0.1:{Port}";

    public Task InitializeAsync() => StartAsync();

    /// <summary>Starts the server (again) and waits until it answers PING.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server") { WorkingDirectory = _directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory, "--protected-mode", "yes" })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"{Connection},connectTimeout=500,abortConnect=true");
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Kills the server outright, as a crash would.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
