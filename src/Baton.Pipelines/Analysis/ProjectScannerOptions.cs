namespace Baton.Analysis;

/// <summary>Limits for <see cref="ProjectScanner"/>.</summary>
public sealed class ProjectScannerOptions
{
    /// <summary>
    /// The most bytes read from one file (8 MiB by default). A larger file is counted but not line-counted, and
    /// only its size and first <see cref="MaxBytesReadPerFile"/> bytes enter the fingerprints.
    /// </summary>
    public long MaxBytesReadPerFile { get; set; } = 8 * 1024 * 1024;

    /// <summary>How many files <see cref="CodeAnalysis.LargestFiles"/> lists (10 by default).</summary>
    public int LargestFileCount { get; set; } = 10;
}
