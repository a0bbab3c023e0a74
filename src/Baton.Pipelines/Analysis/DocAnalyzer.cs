namespace Baton.Analysis;

/// <summary>Builds <see cref="DocAnalysis"/> from the scanned files.</summary>
internal static class DocAnalyzer
{
    /// <summary>The project's README: the root file named README*, markdown preferred.</summary>
    public static ScannedFile? FindReadme(IReadOnlyList<ScannedFile> files) => files
        .Where(file => !file.RelativePath.Contains('/', StringComparison.Ordinal)
                       && file.RelativePath.StartsWith("README", StringComparison.OrdinalIgnoreCase))
        .OrderBy(file => ReadmePreference(file.RelativePath))
        .ThenBy(file => file.RelativePath, StringComparer.Ordinal)
        .FirstOrDefault();

    public static DocAnalysis Build(IReadOnlyList<ScannedFile> files)
    {
        var rootFiles = files.Where(file => !file.RelativePath.Contains('/', StringComparison.Ordinal)).ToList();
        var readme = FindReadme(files);

        var docsFiles = files.Where(file => FileClassifier.IsInDocsFolder(file.RelativePath)).ToList();
        var docsFolders = docsFiles
            .Select(file => FileClassifier.DocsFolderOf(file.RelativePath)!)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

        var license = rootFiles.FirstOrDefault(file => HasPrefix(file, "LICENSE", "LICENCE", "COPYING"));

        return new DocAnalysis(
            HasReadme: readme is not null,
            Readme: readme is null ? null : SummariseReadme(readme),
            HasDocsFolder: docsFolders.Count > 0,
            DocsFolders: docsFolders,
            DocFileCount: docsFiles.Count,
            HasLicense: license is not null,
            License: license is null ? null : new LicenseSummary(license.RelativePath, license.Text is null ? null : LicenseClassifier.KindOf(license.Text)),
            HasChangelog: rootFiles.Any(file => HasPrefix(file, "CHANGELOG", "CHANGES", "HISTORY")),
            HasContributing: files.Any(file =>
                (file.RelativePath.StartsWith("CONTRIBUTING", StringComparison.OrdinalIgnoreCase)
                 || file.RelativePath.StartsWith(".github/CONTRIBUTING", StringComparison.OrdinalIgnoreCase)
                 || file.RelativePath.StartsWith("docs/CONTRIBUTING", StringComparison.OrdinalIgnoreCase))));
    }

    private static bool HasPrefix(ScannedFile file, params string[] prefixes) =>
        prefixes.Any(prefix => file.RelativePath.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

    // Markdown first: it is the README most projects mean, and the only kind whose headings are read.
    private static int ReadmePreference(string name) =>
        name.EndsWith(".md", StringComparison.OrdinalIgnoreCase) ? 0 : 1;

    private static ReadmeSummary SummariseReadme(ScannedFile readme)
    {
        if (readme.Text is null)
        {
            return new ReadmeSummary(readme.RelativePath, readme.Size, Lines: null, Words: null, Sections: []);
        }
        var text = readme.Text;
        var isMarkdown = readme.RelativePath.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
            || readme.RelativePath.EndsWith(".markdown", StringComparison.OrdinalIgnoreCase);
        return new ReadmeSummary(
            readme.RelativePath,
            readme.Size,
            readme.Lines,
            text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length,
            isMarkdown ? MarkdownHeadings.Read(text) : []);
    }
}

/// <summary>Reads ATX headings (<c># Title</c>) from markdown, skipping fenced code blocks where <c>#</c> is a comment.</summary>
internal static class MarkdownHeadings
{
    public static IReadOnlyList<ReadmeSection> Read(string markdown)
    {
        var sections = new List<ReadmeSection>();
        string? openFence = null;
        foreach (var rawLine in markdown.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal))
            {
                var fence = trimmed[..3];
                openFence = openFence is null ? fence : openFence == fence ? null : openFence;
                continue;
            }
            // Four spaces of indentation make a code block, not a heading.
            if (openFence is not null || line.Length - trimmed.Length > 3)
            {
                continue;
            }
            var level = 0;
            while (level < trimmed.Length && trimmed[level] == '#')
            {
                level++;
            }
            if (level is < 1 or > 6 || (level < trimmed.Length && trimmed[level] != ' ' && trimmed[level] != '\t'))
            {
                continue;
            }
            var title = trimmed[level..].Trim().TrimEnd('#').Trim();
            if (title.Length > 0)
            {
                sections.Add(new ReadmeSection(level, title));
            }
        }
        return sections;
    }
}
