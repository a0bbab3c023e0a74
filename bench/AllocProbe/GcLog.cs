using System.Globalization;

/// <summary>
/// When BENCH_GC_LOG names a file, one line every half second of what the process's memory is made of, so that a
/// peak of resident memory can be read beside what the collector did at that moment:
///   t=&lt;s since start&gt; rss_mb= anon_mb= committed_mb= heap_mb= fragmented_mb= gen0_mb= gen1_mb= gen2_mb= loh_mb= poh_mb=
///   gc0= gc1= gc2= pool_threads=
/// rss and anon are the kernel's (/proc/self/status); committed is the managed heap's committed memory; the
/// generations' sizes are those after the last collection; gcN counts collections of generation N (a gen1 collection
/// also counts as a gen0 one). Sampled from a thread of its own, like the probe's answers.
/// </summary>
internal static class GcLog
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    public static void StartIfAsked()
    {
        var path = Environment.GetEnvironmentVariable("BENCH_GC_LOG");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        var thread = new Thread(() => Write(path)) { IsBackground = true, Name = "bench-gc-log" };
        thread.Start();
    }

    private static void Write(string path)
    {
        using var log = new StreamWriter(path) { AutoFlush = true };
        var started = Environment.TickCount64;
        while (true)
        {
            var (rss, anon) = ResidentKilobytes();
            var gc = GC.GetGCMemoryInfo(GCKind.Any);
            var generations = gc.GenerationInfo;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"t={(Environment.TickCount64 - started) / 1000.0:F1} rss_mb={rss >> 10} anon_mb={anon >> 10} " +
                $"committed_mb={gc.TotalCommittedBytes >> 20} heap_mb={gc.HeapSizeBytes >> 20} fragmented_mb={gc.FragmentedBytes >> 20} " +
                $"gen0_mb={generations[0].SizeAfterBytes >> 20} gen1_mb={generations[1].SizeAfterBytes >> 20} " +
                $"gen2_mb={generations[2].SizeAfterBytes >> 20} loh_mb={generations[3].SizeAfterBytes >> 20} poh_mb={generations[4].SizeAfterBytes >> 20} " +
                $"gc0={GC.CollectionCount(0)} gc1={GC.CollectionCount(1)} gc2={GC.CollectionCount(2)} pool_threads={ThreadPool.ThreadCount}"));
            Thread.Sleep(Interval);
        }
    }

    private static (long Rss, long Anon) ResidentKilobytes()
    {
        long rss = 0, anon = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line);
            }
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anon = Kilobytes(line);
            }
        }

        return (rss, anon);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
