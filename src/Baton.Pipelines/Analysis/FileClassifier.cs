namespace Baton.Analysis;

/// <summary>What a file is, decided from its path alone so the scan knows before reading it which fingerprints it feeds.</summary>
internal static class FileClassifier
{
    private static readonly Dictionary<string, string> LanguageByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".py"] = "python", [".pyw"] = "python", [".pyi"] = "python",
        [".js"] = "javascript", [".mjs"] = "javascript", [".cjs"] = "javascript", [".jsx"] = "javascript",
        [".ts"] = "typescript", [".mts"] = "typescript", [".cts"] = "typescript", [".tsx"] = "typescript",
        [".cs"] = "csharp", [".fs"] = "fsharp", [".fsx"] = "fsharp", [".vb"] = "vbnet",
        [".go"] = "go", [".rs"] = "rust", [".java"] = "java", [".kt"] = "kotlin", [".kts"] = "kotlin",
        [".scala"] = "scala", [".groovy"] = "groovy", [".rb"] = "ruby", [".php"] = "php",
        [".c"] = "c", [".h"] = "c", [".cc"] = "cpp", [".cpp"] = "cpp", [".cxx"] = "cpp", [".hpp"] = "cpp", [".hh"] = "cpp",
        [".swift"] = "swift", [".m"] = "objective-c", [".dart"] = "dart", [".lua"] = "lua", [".r"] = "r",
        [".jl"] = "julia", [".ex"] = "elixir", [".exs"] = "elixir", [".erl"] = "erlang", [".hs"] = "haskell",
        [".clj"] = "clojure", [".zig"] = "zig", [".sh"] = "shell", [".bash"] = "shell", [".ps1"] = "powershell",
        [".sql"] = "sql", [".vue"] = "vue", [".svelte"] = "svelte",
        [".html"] = "html", [".htm"] = "html", [".css"] = "css", [".scss"] = "css", [".sass"] = "css", [".less"] = "css",
    };

    // Markup and styling are code the project wrote, but not an ecosystem it is built in.
    private static readonly HashSet<string> NotAnEcosystem = new(StringComparer.Ordinal) { "html", "css", "sql" };

    private static readonly HashSet<string> DocExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".md", ".markdown", ".rst", ".adoc", ".asciidoc", ".txt",
    };

    private static readonly string[] RootDocPrefixes =
    [
        "README", "LICENSE", "LICENCE", "COPYING", "CHANGELOG", "CHANGES", "HISTORY", "CONTRIBUTING", "CODE_OF_CONDUCT", "SECURITY", "AUTHORS", "NOTICE",
    ];

    /// <summary>The language of a source file (<c>python</c>, <c>typescript</c>, ...), or null when it is not source code.</summary>
    public static string? LanguageOf(string relativePath) =>
        LanguageByExtension.GetValueOrDefault(Path.GetExtension(relativePath));

    /// <summary>The ecosystem a language belongs to, in the pipeline's vocabulary (JavaScript and TypeScript are <c>nodejs</c>).</summary>
    public static string? EcosystemOf(string language) => language switch
    {
        "javascript" or "typescript" or "vue" or "svelte" => "nodejs",
        _ when NotAnEcosystem.Contains(language) => null,
        _ => language,
    };

    /// <summary>Whether the file is documentation: a root README/licence/changelog-style file, or prose anywhere.</summary>
    public static bool IsDoc(string relativePath)
    {
        var name = FileName(relativePath);
        if (IsInDocsFolder(relativePath))
        {
            return true;
        }
        if (!relativePath.Contains('/', StringComparison.Ordinal) || relativePath.StartsWith(".github/", StringComparison.Ordinal))
        {
            if (RootDocPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }
        var extension = Path.GetExtension(name);
        // A .txt file is prose unless it is a requirements list or similar machine input.
        return DocExtensions.Contains(extension) && !extension.Equals(".txt", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether the file sits in a top-level <c>docs</c> or <c>doc</c> folder.</summary>
    public static bool IsInDocsFolder(string relativePath) =>
        DocsFolderOf(relativePath) is not null;

    /// <summary>The top-level docs folder a file is in (<c>docs</c> or <c>doc</c>, any case), or null.</summary>
    public static string? DocsFolderOf(string relativePath)
    {
        var slash = relativePath.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return null;
        }
        var top = relativePath[..slash];
        return top.Equals("docs", StringComparison.OrdinalIgnoreCase) || top.Equals("doc", StringComparison.OrdinalIgnoreCase)
            ? top
            : null;
    }

    /// <summary>Whether a source file is a test, by the conventions of its ecosystem.</summary>
    public static bool IsTest(string relativePath, string language)
    {
        if (TestFolderOf(relativePath) is not null)
        {
            return true;
        }
        var name = FileName(relativePath);
        var stem = Path.GetFileNameWithoutExtension(name);
        return language switch
        {
            "python" => stem.StartsWith("test_", StringComparison.Ordinal) || stem.EndsWith("_test", StringComparison.Ordinal) || name == "conftest.py",
            "javascript" or "typescript" => stem.EndsWith(".test", StringComparison.Ordinal) || stem.EndsWith(".spec", StringComparison.Ordinal),
            "go" => stem.EndsWith("_test", StringComparison.Ordinal),
            "csharp" or "fsharp" or "java" or "kotlin" or "scala" => stem.EndsWith("Test", StringComparison.Ordinal) || stem.EndsWith("Tests", StringComparison.Ordinal),
            "ruby" => stem.EndsWith("_spec", StringComparison.Ordinal) || stem.EndsWith("_test", StringComparison.Ordinal),
            "php" => stem.EndsWith("Test", StringComparison.Ordinal),
            "rust" => false, // Rust tests mostly live inside the source files; only a tests/ folder is visible.
            _ => false,
        };
    }

    /// <summary>
    /// The outermost test folder containing the file: a folder named <c>tests</c>, <c>test</c>, <c>__tests__</c>,
    /// <c>spec</c> or <c>specs</c>, or a .NET test project folder ending in <c>.Tests</c>/<c>.Test</c>; null when none.
    /// </summary>
    public static string? TestFolderOf(string relativePath)
    {
        var segments = relativePath.Split('/');
        for (var i = 0; i < segments.Length - 1; i++)
        {
            var segment = segments[i];
            if (segment is "tests" or "test" or "__tests__" or "spec" or "specs" or "Tests" or "Test"
                || segment.EndsWith(".Tests", StringComparison.Ordinal) || segment.EndsWith(".Test", StringComparison.Ordinal)
                || segment.EndsWith(".UnitTests", StringComparison.Ordinal) || segment.EndsWith(".IntegrationTests", StringComparison.Ordinal))
            {
                return string.Join('/', segments, 0, i + 1);
            }
        }
        return null;
    }

    public static string FileName(string relativePath)
    {
        var slash = relativePath.LastIndexOf('/');
        return slash < 0 ? relativePath : relativePath[(slash + 1)..];
    }
}
