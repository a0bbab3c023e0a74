namespace Baton.Analysis;

/// <summary>One scanned file and what reading it found.</summary>
/// <param name="RelativePath">Path from the project root, with <c>/</c> separators.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Digest">SHA-256 of the file's size and content (up to the read limit).</param>
/// <param name="IsBinary">A NUL byte in the first 8 KB.</param>
/// <param name="IsOverReadLimit">Larger than the read limit, so read only up to it.</param>
/// <param name="Lines">Lines of a text file read in full; 0 for binary files and files over the limit.</param>
/// <param name="Markers">TODO/FIXME/HACK counts of a text file read in full.</param>
/// <param name="Text">The content as text, kept only for the small files the analysis parses (manifests, YAML, README, licence).</param>
internal sealed record ScannedFile(
    string RelativePath,
    long Size,
    byte[] Digest,
    bool IsBinary,
    bool IsOverReadLimit,
    long Lines,
    MarkerCounts Markers,
    string? Text)
{
    /// <summary>A YAML file with top-level <c>apiVersion</c> and <c>kind</c>, decided once its text is read.</summary>
    public bool IsKubernetesManifest { get; init; }

    /// <summary>Whether the lines were counted (a text file read in full).</summary>
    public bool HasLineCount => !IsBinary && !IsOverReadLimit;
}

/// <summary>How often the markers developers leave for later appear in a file (case-sensitive, as conventionally written).</summary>
internal readonly record struct MarkerCounts(int Todo, int Fixme, int Hack);
