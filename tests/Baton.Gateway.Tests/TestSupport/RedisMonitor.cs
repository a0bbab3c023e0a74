using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Baton.Gateway.Tests.TestSupport;

/// <summary>
/// Redis's <c>MONITOR</c> on a connection of its own: every command the server runs, as the server logs it. Counts
/// the commands clients sent (not those a script ran, nor connection upkeep such as PING or INFO).
/// </summary>
public sealed class RedisMonitor : IAsyncDisposable
{
    // Connection upkeep and pub/sub plumbing, not shared state.
    private static readonly string[] Upkeep = ["\"ping\"", "\"echo\"", "\"info\"", "\"client\"", "\"config\"", "\"cluster\"", "\"subscribe\"",
        "\"unsubscribe\"", "\"select\"", "\"hello\"", "\"auth\"", "\"sentinel\"", "\"role\"", "\"monitor\"", "\"command\""];

    private readonly TcpClient _client = new();
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _reader;

    public static async Task<RedisMonitor> StartAsync(RedisServer redis)
    {
        var monitor = new RedisMonitor();
        await monitor._client.ConnectAsync("127.0.0.1", redis.Port);
        var stream = monitor._client.GetStream();
        await stream.WriteAsync("MONITOR\r\n"u8.ToArray());
        var reader = new StreamReader(stream, Encoding.UTF8);
        var ok = await reader.ReadLineAsync();
        if (ok != "+OK")
        {
            throw new InvalidOperationException("MONITOR was refused: " + ok);
        }
        monitor._reader = Task.Run(async () =>
        {
            try
            {
                while (await reader.ReadLineAsync(monitor._stop.Token) is { } line)
                {
                    monitor._lines.Enqueue(line);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        });
        return monitor;
    }

    /// <summary>Commands clients sent since the last <see cref="Clear"/>, lower-case name first.</summary>
    public IReadOnlyList<string> Commands => _lines
        .Where(l => !l.Contains(" lua]", StringComparison.Ordinal))
        .Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..])
        .Where(c => !Upkeep.Any(u => c.StartsWith(u, StringComparison.OrdinalIgnoreCase)))
        .Select(c => c.ToLowerInvariant())
        .ToList();

    public void Clear() => _lines.Clear();

    /// <summary>Waits (real time, at most five seconds) until no command has arrived for a quarter of a second: background writes are done.</summary>
    public async Task QuietAsync()
    {
        var seen = -1;
        for (var i = 0; i < 20 && seen != _lines.Count; i++)
        {
            seen = _lines.Count;
            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.Dispose();
        if (_reader is not null)
        {
            await _reader;
        }
        _stop.Dispose();
    }
}
