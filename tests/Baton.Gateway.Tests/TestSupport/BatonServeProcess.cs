using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Baton.Gateway.Tests.TestSupport;

/// <summary>
/// A real <c>baton serve</c> process in a working directory, on a free loopback port, that a test can kill outright
/// (SIGKILL: no shutdown code runs) and start again on the same files.
/// </summary>
public sealed class BatonServeProcess : IAsyncDisposable
{
    private const int KeptLines = 200;

    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private volatile bool _listening;

    private BatonServeProcess(Process process, string url)
    {
        _process = process;
        Http = new HttpClient(new InternalErrorShowsOutput(this) { InnerHandler = new HttpClientHandler() }) { BaseAddress = new Uri(url) };
    }

    public HttpClient Http { get; }

    /// <summary>The last lines the process wrote (standard output and error), for a failing test to show.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        if (line.Contains("Baton gateway listening on", StringComparison.Ordinal))
        {
            _listening = true;
        }
        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > KeptLines)
            {
                _output.Dequeue();
            }
        }
    }

    /// <summary>Starts <c>baton serve --config</c> <paramref name="config"/> in <paramref name="directory"/> and waits until <c>/health</c> answers.</summary>
    /// <remarks>A process that exits at start is started again on another port, twice at most: the port it was given may
    /// have been taken between its choice and the bind.</remarks>
    public static Task<BatonServeProcess> StartAsync(string directory, string config) =>
        StartAsync(url => Command("dotnet", directory, [typeof(Baton.Cli.BatonCli).Assembly.Location, "serve", "--config", config, "--urls", url]));

    /// <summary>
    /// Starts <c>serve</c> with no configuration (the built-in simulator) through <paramref name="executable"/> (an
    /// installed <c>baton</c> tool) in <paramref name="directory"/>, with <paramref name="environment"/> added, as
    /// <see cref="StartAsync(string, string)"/> does.
    /// </summary>
    public static Task<BatonServeProcess> StartToolAsync(string executable, string directory, IReadOnlyDictionary<string, string> environment) =>
        StartAsync(url =>
        {
            var start = Command(executable, directory, ["serve", "--urls", url]);
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
            return start;
        });

    private static async Task<BatonServeProcess> StartAsync(Func<string, ProcessStartInfo> command)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(command);
            }
            catch (ExitedAtStartException) when (attempt < 3)
            {
            }
        }
    }

    private static ProcessStartInfo Command(string executable, string directory, string[] arguments)
    {
        var start = new ProcessStartInfo(executable) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return start;
    }

    private static async Task<BatonServeProcess> StartOnceAsync(Func<string, ProcessStartInfo> command)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var process = Process.Start(command(url))!;
        var server = new BatonServeProcess(process, url);
        process.OutputDataReceived += (_, line) => server.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => server.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilUpAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Kills the process with SIGKILL and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// Kills the process if it still runs. Waits for it without blocking a thread: the test's continuation may run on
    /// a socket thread (with inline socket completions), and blocking there stalls every socket of the test process.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary>
    /// Waits until this process says it listens, then until <c>/health</c> answers. The port was free when chosen, but
    /// another server (of a test assembly run alongside) may take it before this process binds it: that server's
    /// <c>/health</c> must not pass for this one's, and this process then fails to start.
    /// </summary>
    private async Task WaitUntilUpAsync()
    {
        for (var i = 0; i < 300; i++)
        {
            if (_process.HasExited)
            {
                throw new ExitedAtStartException("baton serve exited at start:\n" + Output);
            }
            if (!_listening)
            {
                await Task.Delay(100);
                continue;
            }
            try
            {
                using var response = await Http.GetAsync("/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("baton serve did not start within 30 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Turns a 500 into an exception carrying what the process wrote: a 500 is always a defect, and the process's log
    /// (its unhandled exception) is what explains it, gone once the test ends.
    /// </summary>
    private sealed class InternalErrorShowsOutput(BatonServeProcess process) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.InternalServerError)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                response.Dispose();
                throw new HttpRequestException(
                    $"{request.Method} {request.RequestUri} answered 500: {body}\nbaton serve wrote:\n{process.Output}", null, HttpStatusCode.InternalServerError);
            }
            return response;
        }
    }

    private sealed class ExitedAtStartException(string message) : Exception(message);
}
