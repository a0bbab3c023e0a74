namespace Baton.Analysis;

/// <summary>
/// Scans a project folder into the facts the analysis pipeline reads (<see cref="ProjectInput"/>) and the
/// fingerprints a cache keys role results on. The scan is deterministic: the same files give the same result,
/// whatever their timestamps, the order the file system lists them in, or where the folder lives.
/// </summary>
/// <remarks>
/// Skipped: version-control, dependency and build-output folders (<c>.git</c>, <c>node_modules</c>, <c>bin</c>,
/// <c>obj</c>, <c>.venv</c>, <c>dist</c>, <c>target</c>, ...), everything a <c>.gitignore</c> excludes, and symbolic
/// links. Unreadable files are left out. Binary files are counted but not line-counted; files over
/// <see cref="ProjectScannerOptions.MaxBytesReadPerFile"/> are counted but not read beyond it.
/// </remarks>
public sealed class ProjectScanner
{
    private readonly long _maxBytesReadPerFile;
    private readonly int _largestFileCount;

    /// <summary>Creates a scanner with the given limits (or the defaults); the limits are read once, here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is zero or negative (the largest-file count may be zero).</exception>
    public ProjectScanner(ProjectScannerOptions? options = null)
    {
        options ??= new ProjectScannerOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxBytesReadPerFile);
        ArgumentOutOfRangeException.ThrowIfNegative(options.LargestFileCount);
        _maxBytesReadPerFile = options.MaxBytesReadPerFile;
        _largestFileCount = options.LargestFileCount;
    }

    /// <summary>Scans the project at <paramref name="projectPath"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public ProjectScan Scan(string projectPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(projectPath);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(projectPath));
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"No project folder at '{root}'.");
        }

        var reader = new FileContentReader(_maxBytesReadPerFile);
        var scanned = new List<ScannedFile>();
        foreach (var file in ProjectFileWalker.ListFiles(root, cancellationToken))
        {
            var result = reader.Read(file, keepText: IsParsed(file.RelativePath), cancellationToken);
            if (result is not null)
            {
                scanned.Add(SettleYaml(result));
            }
        }

        var code = CodeAnalyzer.Build(scanned, _largestFileCount);
        var project = new ProjectInput(
            Name: Path.GetFileName(root) is { Length: > 0 } name ? name : root,
            Path: root,
            Languages: EcosystemsOf(code),
            CodeAnalysis: code,
            DeploymentAnalysis: DeploymentAnalyzer.Build(scanned),
            DocAnalysis: DocAnalyzer.Build(scanned));
        return new ProjectScan(project, Fingerprint(scanned), ReadmeExcerpt(DocAnalyzer.FindReadme(scanned)));
    }

    /// <summary>
    /// The immediate subfolders of <paramref name="parentPath"/> that look like projects (they hold a <c>.git</c>,
    /// a dependency manifest, a solution, a README, a Dockerfile or a <c>src</c> folder), leaving out hidden folders,
    /// always-skipped folders (<c>node_modules</c>, <c>bin</c>, ...), symbolic links and folders the parent's
    /// <c>.gitignore</c> excludes. Full paths, in ordinal order.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<string> FindProjects(string parentPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(parentPath);
        var parent = new DirectoryInfo(Path.GetFullPath(parentPath));
        if (!parent.Exists)
        {
            throw new DirectoryNotFoundException($"No folder at '{parent.FullName}'.");
        }

        var rules = GitIgnoreRules.None.ForFolder("", ProjectFileWalker.ReadGitIgnore(parent));
        return ProjectFileWalker.EnumerateSafely(parent)
            .OfType<DirectoryInfo>()
            .Where(folder => !folder.Name.StartsWith('.')
                && !ProjectFileWalker.IsLink(folder)
                && !ProjectFileWalker.SkippedFolderNames.Contains(folder.Name)
                && !rules.IsIgnored(folder.Name, isDirectory: true)
                && LooksLikeProject(folder))
            .Select(folder => Path.TrimEndingDirectorySeparator(folder.FullName))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static bool LooksLikeProject(DirectoryInfo folder) =>
        ProjectFileWalker.EnumerateSafely(folder).Any(entry =>
            entry.Name is ".git" or "src" or "Dockerfile"
            || entry.Name.StartsWith("README", StringComparison.OrdinalIgnoreCase)
            || entry.Name.EndsWith(".sln", StringComparison.OrdinalIgnoreCase)
            || entry.Name.EndsWith(".slnx", StringComparison.OrdinalIgnoreCase)
            || (entry is FileInfo && DependencyManifests.EcosystemOf(entry.Name) is not null));

    // A project can hold thousands of YAML files; each is reduced to "Kubernetes manifest or not" at once rather than
    // keeping its text for the whole scan.
    private static ScannedFile SettleYaml(ScannedFile file)
    {
        if (file.Text is null
            || DeploymentFiles.KindOf(file.RelativePath) != DeploymentFileKind.MaybeKubernetes
            || DependencyManifests.EcosystemOf(file.RelativePath) is not null)
        {
            return file;
        }
        return file with { IsKubernetesManifest = DeploymentFiles.LooksLikeKubernetesManifest(file.Text), Text = null };
    }

    // Files whose text the analysis parses; everything else is only counted and hashed.
    /// <summary>How much of the README the pipeline's prompts may quote.</summary>
    public const int ReadmeExcerptCharacters = 4000;

    /// <summary>The README's beginning, from the text the scan read (and fingerprinted), so prompt and cache key agree.</summary>
    private static string ReadmeExcerpt(ScannedFile? readme) => readme switch
    {
        null => "(no README)",
        { Text: null } => "(README too large to quote)",
        { Text: var text } => text.Length <= ReadmeExcerptCharacters ? text : text[..ReadmeExcerptCharacters],
    };

    private static bool IsParsed(string relativePath)
    {
        var extension = Path.GetExtension(relativePath);
        var isRootFile = !relativePath.Contains('/', StringComparison.Ordinal);
        return DependencyManifests.EcosystemOf(relativePath) is not null
            || extension is ".yml" or ".yaml"
            || (isRootFile && (relativePath.StartsWith("README", StringComparison.OrdinalIgnoreCase)
                || relativePath.StartsWith("LICENSE", StringComparison.OrdinalIgnoreCase)
                || relativePath.StartsWith("LICENCE", StringComparison.OrdinalIgnoreCase)
                || relativePath.StartsWith("COPYING", StringComparison.OrdinalIgnoreCase)));
    }

    private static List<string> EcosystemsOf(CodeAnalysis code)
    {
        var ecosystems = code.Languages
            .Select(language => FileClassifier.EcosystemOf(language.Language))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
        // A manifest names an ecosystem even before its code is written (or when the code is all in one generated file).
        foreach (var manifest in code.DependencyManifests)
        {
            if (!ecosystems.Contains(manifest.Ecosystem, StringComparer.Ordinal))
            {
                ecosystems.Add(manifest.Ecosystem);
            }
        }
        return ecosystems;
    }

    private static ProjectFingerprints Fingerprint(List<ScannedFile> files)
    {
        using var all = new FingerprintBuilder();
        using var code = new FingerprintBuilder();
        using var deployment = new FingerprintBuilder();
        using var docs = new FingerprintBuilder();
        foreach (var file in files)
        {
            var isManifest = DependencyManifests.EcosystemOf(file.RelativePath) is not null;
            all.Add(file);
            if (isManifest || FileClassifier.LanguageOf(file.RelativePath) is not null)
            {
                code.Add(file);
            }
            if (isManifest || DeploymentAnalyzer.IsDeploymentFile(file))
            {
                deployment.Add(file);
            }
            if (FileClassifier.IsDoc(file.RelativePath))
            {
                docs.Add(file);
            }
        }
        return new ProjectFingerprints(all.Finish(), code.Finish(), deployment.Finish(), docs.Finish());
    }
}
