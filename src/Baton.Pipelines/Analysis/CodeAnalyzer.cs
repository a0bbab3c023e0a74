using System.Text.Json;

namespace Baton.Analysis;

/// <summary>Builds <see cref="CodeAnalysis"/> from the scanned files.</summary>
internal static class CodeAnalyzer
{
    private static readonly HashSet<string> EntryPointNames = new(StringComparer.Ordinal)
    {
        "main.py", "__main__.py", "app.py", "manage.py", "wsgi.py", "asgi.py", "main.go", "main.rs", "Program.cs",
        "Program.fs", "server.js", "server.ts", "index.js", "index.ts", "app.js", "app.ts", "main.js", "main.ts",
        "Main.java", "Application.java", "main.rb", "index.php", "main.c", "main.cpp", "main.swift", "main.dart",
    };

    // index.js and friends also name every component folder's barrel file; only near the top are they entry points.
    private static readonly HashSet<string> EntryPointNamesOnlyNearTheTop = new(StringComparer.Ordinal)
    {
        "index.js", "index.ts", "index.php", "app.js", "app.ts", "main.js", "main.ts",
    };

    public static CodeAnalysis Build(IReadOnlyList<ScannedFile> files, int largestFileCount)
    {
        var sources = files
            .Select(file => (File: file, Language: FileClassifier.LanguageOf(file.RelativePath)))
            .Where(source => source.Language is not null && !source.File.IsBinary)
            .Select(source => (source.File, Language: source.Language!))
            .ToList();

        var languages = sources
            .GroupBy(source => source.Language, StringComparer.Ordinal)
            .Select(group => new LanguageStatistics(group.Key, group.Count(), group.Sum(source => source.File.Lines)))
            .OrderByDescending(statistics => statistics.Lines)
            .ThenBy(statistics => statistics.Language, StringComparer.Ordinal)
            .ToList();

        var largest = sources
            .Where(source => source.File.HasLineCount)
            .OrderByDescending(source => source.File.Lines)
            .ThenBy(source => source.File.RelativePath, StringComparer.Ordinal)
            .Take(largestFileCount)
            .Select(source => new FileLines(source.File.RelativePath, source.File.Lines))
            .ToList();

        var tests = sources.Where(source => FileClassifier.IsTest(source.File.RelativePath, source.Language)).ToList();
        var testFolders = files
            .Select(file => FileClassifier.TestFolderOf(file.RelativePath))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

        var manifests = files
            .Select(file => (File: file, Ecosystem: DependencyManifests.EcosystemOf(file.RelativePath)))
            .Where(manifest => manifest.Ecosystem is not null)
            .Select(manifest => DependencyManifests.Describe(manifest.File.RelativePath, manifest.Ecosystem!, manifest.File.Text))
            .ToList();

        return new CodeAnalysis(
            TotalFiles: files.Count,
            TotalLines: sources.Sum(source => source.File.Lines),
            SourceFiles: sources.Count,
            BinaryFiles: files.Count(file => file.IsBinary),
            FilesOverReadLimit: files.Where(file => file.IsOverReadLimit).Select(file => file.RelativePath).ToList(),
            Languages: languages,
            LargestFiles: largest,
            Tests: new TestSummary(tests.Count > 0 || testFolders.Count > 0, tests.Count, testFolders),
            DependencyManifests: manifests,
            TodoCount: sources.Sum(source => source.File.Markers.Todo),
            FixmeCount: sources.Sum(source => source.File.Markers.Fixme),
            HackCount: sources.Sum(source => source.File.Markers.Hack),
            EntryPoints: FindEntryPoints(files, sources));
    }

    /// <summary>
    /// Conventional entry files outside test folders, plus what a root <c>package.json</c> names as <c>main</c> or
    /// <c>bin</c> when that file exists.
    /// </summary>
    private static List<string> FindEntryPoints(IReadOnlyList<ScannedFile> files, List<(ScannedFile File, string Language)> sources)
    {
        var entryPoints = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (file, language) in sources)
        {
            var name = FileClassifier.FileName(file.RelativePath);
            var depth = file.RelativePath.Count(c => c == '/');
            var isEntryName = EntryPointNames.Contains(name) && (depth <= 1 || !EntryPointNamesOnlyNearTheTop.Contains(name));
            if (isEntryName && !FileClassifier.IsTest(file.RelativePath, language))
            {
                entryPoints.Add(file.RelativePath);
            }
        }

        var packageJson = files.FirstOrDefault(file => file.RelativePath == "package.json");
        if (packageJson?.Text is not null)
        {
            var paths = new HashSet<string>(files.Select(file => file.RelativePath), StringComparer.Ordinal);
            foreach (var named in PackageEntryFiles(packageJson.Text))
            {
                var normalised = named.Replace('\\', '/');
                normalised = normalised.StartsWith("./", StringComparison.Ordinal) ? normalised[2..] : normalised;
                if (paths.Contains(normalised))
                {
                    entryPoints.Add(normalised);
                }
            }
        }
        return [.. entryPoints];
    }

    private static List<string> PackageEntryFiles(string packageJson)
    {
        var named = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(packageJson);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return named;
            }
            if (root.TryGetProperty("main", out var main) && main.ValueKind == JsonValueKind.String)
            {
                named.Add(main.GetString()!);
            }
            if (root.TryGetProperty("bin", out var bin))
            {
                if (bin.ValueKind == JsonValueKind.String)
                {
                    named.Add(bin.GetString()!);
                }
                else if (bin.ValueKind == JsonValueKind.Object)
                {
                    named.AddRange(bin.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => p.Value.GetString()!));
                }
            }
        }
        catch (JsonException)
        {
            // A malformed package.json names no entry point; the manifest count already reports it as uncounted.
        }
        return named;
    }
}
