using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

// The runtime calls Initialize before the host's Main when this assembly is named in DOTNET_STARTUP_HOOKS. When
// BENCH_PROBE_PORT is set, it answers every connection to 127.0.0.1:BENCH_PROBE_PORT with one HTTP/1.0 response:
//   allocated_bytes=<GC.GetTotalAllocatedBytes(precise)> gen0=<n> gen1=<n> gen2=<n>
// bench/run.sh reads it before and after a wrk run and divides the difference by the requests served. The same
// counter is what the runtime's System.Runtime meter exports as dotnet.gc.heap.total_allocated; reading it here
// measures YARP and Baton by one method, outside their request pipelines (a read costs a few hundred bytes, twice
// per run, against the megabytes a run allocates). BENCH_GC_LOG asks for a memory log as well (GcLog).
#pragma warning disable CA1050 // The runtime looks for a type named StartupHook in no namespace.
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize()
    {
        GcLog.StartIfAsked();
        var port = Environment.GetEnvironmentVariable("BENCH_PROBE_PORT");
        if (string.IsNullOrEmpty(port))
        {
            return;
        }

        var endpoint = new IPEndPoint(IPAddress.Loopback, int.Parse(port, CultureInfo.InvariantCulture));
        // A thread of its own rather than the thread pool: the probe must answer while the pool is saturated by load.
        var thread = new Thread(() => Serve(endpoint)) { IsBackground = true, Name = "bench-alloc-probe" };
        thread.Start();
    }

    private static void Serve(IPEndPoint endpoint)
    {
        // The runtime fixes its socket settings when the process opens its first socket, and a program may choose
        // them at the start of Main (baton sets DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS there). This hook runs
        // before Main: its socket waits, so that the measured process runs as it does without the probe. The bench
        // first reads the probe long after (readiness checks, keys, warm-up).
        Thread.Sleep(TimeSpan.FromSeconds(2));
        var listener = new TcpListener(endpoint);
        listener.Start();
        Serve(listener);
    }

    private static void Serve(TcpListener listener)
    {
        while (true)
        {
            using var client = listener.AcceptTcpClient();
            try
            {
                Answer(client);
            }
            catch (IOException)
            {
                // The reader went away: nothing to answer, the next connection is served.
            }
            catch (SocketException)
            {
                // Likewise.
            }
        }
    }

    /// <summary>
    /// The process's total allocated bytes. Under the server GC's dynamic adaptation (DATAS, on by default) this total
    /// falls, by hundreds of megabytes at once, when the collector retires a heap: a run across such a change reads
    /// negative (the scripts leave it out, see bench/ab.sh). It is read as it is: an earlier version kept its answers
    /// from ever going down, which turned every run after a fall into 0 bytes a request instead.
    /// </summary>
    private static long AllocatedBytes() => GC.GetTotalAllocatedBytes(precise: true);

    private static void Answer(TcpClient client)
    {
        var body = string.Create(CultureInfo.InvariantCulture,
            $"allocated_bytes={AllocatedBytes()} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}\n");
        var response = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"));
        using var stream = client.GetStream();
        // The request is not parsed: any connection gets the figures. Its bytes are read first so the close is clean.
        client.ReceiveTimeout = 200;
        try
        {
            var buffer = new byte[1024];
            _ = stream.Read(buffer, 0, buffer.Length);
        }
        catch (IOException)
        {
            // No request bytes within the timeout: answer anyway.
        }

        stream.Write(response, 0, response.Length);
    }
}
