namespace Baton.Analysis;

/// <summary>
/// Lists the files of a project that a scan reads: not inside version-control, dependency or build-output folders,
/// not excluded by any <c>.gitignore</c> (root or nested) or the repository's <c>.git/info/exclude</c>, and never
/// through a symbolic link.
/// </summary>
internal static class ProjectFileWalker
{
    /// <summary>Folders never scanned, at any depth: version control, vendored dependencies, build output, IDE state.</summary>
    public static readonly IReadOnlySet<string> SkippedFolderNames = new HashSet<string>(StringComparer.Ordinal)
    {
        ".git", ".hg", ".svn", "node_modules", "bower_components", "vendor", "bin", "obj", ".venv", "venv",
        "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", "dist", "target", ".idea", ".vs",
        ".next", ".nuxt", ".gradle", ".terraform", ".dart_tool",
    };

    private static readonly EnumerationOptions ImmediateEntries = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    /// <summary>The project's files as (relative path with <c>/</c> separators, full path), in ordinal path order.</summary>
    public static IReadOnlyList<ProjectFile> ListFiles(string projectRoot, CancellationToken cancellationToken)
    {
        var files = new List<ProjectFile>();
        var pending = new Stack<(DirectoryInfo Folder, string RelativePath, GitIgnoreRules Rules)>();
        var root = new DirectoryInfo(projectRoot);
        // The repository's own exclude list sits below the root .gitignore, which overrides it, as in git.
        var rootRules = GitIgnoreRules.None
            .ForFolder("", ReadIgnoreFile(Path.Combine(root.FullName, ".git", "info", "exclude")))
            .ForFolder("", ReadGitIgnore(root));
        pending.Push((root, "", rootRules));

        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (folder, folderPath, rules) = pending.Pop();
            foreach (var entry in EnumerateSafely(folder))
            {
                // A worktree's or submodule's .git is a file pointing elsewhere by absolute path: never project content.
                if (IsLink(entry) || entry.Name == ".git")
                {
                    continue;
                }
                var relativePath = folderPath.Length == 0 ? entry.Name : folderPath + "/" + entry.Name;
                if (entry is DirectoryInfo subfolder)
                {
                    if (SkippedFolderNames.Contains(entry.Name) || rules.IsIgnored(relativePath, isDirectory: true))
                    {
                        continue;
                    }
                    pending.Push((subfolder, relativePath, rules.ForFolder(relativePath, ReadGitIgnore(subfolder))));
                }
                else if (!rules.IsIgnored(relativePath, isDirectory: false))
                {
                    files.Add(new ProjectFile(relativePath, entry.FullName, ((FileInfo)entry).Length));
                }
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return files;
    }

    /// <summary>The lines of a folder's own <c>.gitignore</c>, or null when it has none (or it cannot be read).</summary>
    public static string[]? ReadGitIgnore(DirectoryInfo folder) =>
        ReadIgnoreFile(Path.Combine(folder.FullName, ".gitignore"));

    private static string[]? ReadIgnoreFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.LinkTarget is null ? File.ReadAllLines(path) : null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static bool IsLink(FileSystemInfo entry) =>
        entry.LinkTarget is not null || (entry.Attributes & FileAttributes.ReparsePoint) != 0;

    public static IEnumerable<FileSystemInfo> EnumerateSafely(DirectoryInfo folder)
    {
        try
        {
            return folder.EnumerateFileSystemInfos("*", ImmediateEntries).ToList();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}

/// <summary>A file found by <see cref="ProjectFileWalker"/>, with its size when it was listed.</summary>
internal sealed record ProjectFile(string RelativePath, string FullPath, long Length);
