using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace Baton.Analysis;

/// <summary>
/// Recognises dependency manifests by name and counts their declared dependencies where the format is cheap to read
/// exactly (JSON, XML, line lists, simple TOML tables). Where it is not (Gradle scripts, <c>setup.py</c>), the count is null
/// rather than a guess.
/// </summary>
internal static partial class DependencyManifests
{
    /// <summary>The ecosystem a manifest belongs to, or null when the file is not a dependency manifest.</summary>
    public static string? EcosystemOf(string relativePath)
    {
        var name = FileName(relativePath);
        var extension = Path.GetExtension(name);
        return name switch
        {
            "package.json" => "nodejs",
            "requirements.txt" or "pyproject.toml" or "Pipfile" or "setup.py" or "setup.cfg" or "environment.yml" => "python",
            _ when name.StartsWith("requirements", StringComparison.Ordinal) && extension == ".txt" => "python",
            "go.mod" => "go",
            "Cargo.toml" => "rust",
            "pom.xml" or "build.gradle" or "build.gradle.kts" => "java",
            "Gemfile" => "ruby",
            "composer.json" => "php",
            "Package.swift" => "swift",
            "pubspec.yaml" => "dart",
            "mix.exs" => "elixir",
            "Directory.Packages.props" or "packages.config" => "csharp",
            _ when extension is ".csproj" => "csharp",
            _ when extension is ".fsproj" => "fsharp",
            _ when extension is ".vbproj" => "vbnet",
            _ => null,
        };
    }

    /// <summary>Describes a manifest, counting its dependencies from <paramref name="text"/> when it could be read.</summary>
    public static DependencyManifest Describe(string relativePath, string ecosystem, string? text)
    {
        if (text is null)
        {
            return new DependencyManifest(relativePath, ecosystem, null, null);
        }
        try
        {
            var (dependencies, devDependencies) = Count(FileName(relativePath), text);
            return new DependencyManifest(relativePath, ecosystem, dependencies, devDependencies);
        }
        catch (Exception exception) when (exception is JsonException or XmlException)
        {
            // A malformed manifest is reported as found but not counted.
            return new DependencyManifest(relativePath, ecosystem, null, null);
        }
    }

    private static (int? Dependencies, int? DevDependencies) Count(string name, string text)
    {
        var extension = Path.GetExtension(name);
        if (name is "package.json")
        {
            return CountJsonObjects(text, "dependencies", "devDependencies");
        }
        if (name is "composer.json")
        {
            return CountJsonObjects(text, "require", "require-dev");
        }
        if (name.StartsWith("requirements", StringComparison.Ordinal) && extension == ".txt")
        {
            return (Lines(text).Count(line => line.Length > 0 && line[0] != '#' && line[0] != '-'), null);
        }
        if (name is "pyproject.toml")
        {
            var projectDependencies = CountTomlArray(text, "project", "dependencies");
            var poetry = CountTomlTableKeys(text, "tool.poetry.dependencies", except: "python");
            var poetryDev = CountTomlTableKeys(text, "tool.poetry.dev-dependencies") + CountTomlTableKeys(text, "tool.poetry.group.dev.dependencies");
            return (projectDependencies + poetry, poetryDev == 0 ? null : poetryDev);
        }
        if (name is "Pipfile")
        {
            return (CountTomlTableKeys(text, "packages"), CountTomlTableKeys(text, "dev-packages"));
        }
        if (name is "Cargo.toml")
        {
            return (CountTomlTableKeys(text, "dependencies") + CountTomlTableKeys(text, "build-dependencies"), CountTomlTableKeys(text, "dev-dependencies"));
        }
        if (name is "go.mod")
        {
            return (CountGoRequires(text), null);
        }
        if (name is "Gemfile")
        {
            return (Lines(text).Count(line => line.StartsWith("gem ", StringComparison.Ordinal)), null);
        }
        if (name is "pom.xml")
        {
            var document = XDocument.Parse(text);
            return (document.Descendants().Count(e => e.Name.LocalName == "dependency"), null);
        }
        if (extension is ".csproj" or ".fsproj" or ".vbproj" || name is "packages.config")
        {
            var document = XDocument.Parse(text);
            return (document.Descendants().Count(e => e.Name.LocalName is "PackageReference" or "package"), null);
        }
        if (name is "Directory.Packages.props")
        {
            var document = XDocument.Parse(text);
            return (document.Descendants().Count(e => e.Name.LocalName == "PackageVersion"), null);
        }
        return (null, null);
    }

    private static (int?, int?) CountJsonObjects(string text, string dependenciesKey, string devDependenciesKey)
    {
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        return (CountProperties(document.RootElement, dependenciesKey), CountProperties(document.RootElement, devDependenciesKey));

        static int CountProperties(JsonElement root, string key) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Object
                ? value.EnumerateObject().Count()
                : 0;
    }

    private static int CountGoRequires(string text)
    {
        var count = 0;
        var inBlock = false;
        foreach (var line in Lines(text))
        {
            if (inBlock)
            {
                if (line.StartsWith(')'))
                {
                    inBlock = false;
                }
                else if (line.Length > 0 && !line.StartsWith("//", StringComparison.Ordinal))
                {
                    count++;
                }
            }
            else if (line.StartsWith("require (", StringComparison.Ordinal) || line == "require(")
            {
                inBlock = true;
            }
            else if (line.StartsWith("require ", StringComparison.Ordinal))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Counts the <c>key = ...</c> lines of a TOML table (<c>[table]</c>) up to the next table header.</summary>
    private static int CountTomlTableKeys(string text, string table, string? except = null)
    {
        var count = 0;
        var inTable = false;
        foreach (var line in Lines(text))
        {
            if (line.StartsWith('['))
            {
                inTable = line == "[" + table + "]";
                continue;
            }
            if (!inTable || line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var match = TomlKey().Match(line);
            if (match.Success && !string.Equals(match.Groups[1].Value.Trim('"', '\''), except, StringComparison.Ordinal))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Counts the string items of a TOML array <c>key = [ ... ]</c> inside <c>[table]</c> (one line or many).</summary>
    private static int CountTomlArray(string text, string table, string key)
    {
        var inTable = false;
        var collecting = false;
        var items = 0;
        foreach (var line in Lines(text))
        {
            if (!collecting && line.StartsWith('['))
            {
                inTable = line == "[" + table + "]";
                continue;
            }
            if (!inTable)
            {
                continue;
            }
            var content = line;
            if (!collecting)
            {
                var match = TomlArrayStart(key).Match(line);
                if (!match.Success)
                {
                    continue;
                }
                collecting = true;
                content = line[match.Length..];
            }
            items += QuotedString().Count(StripComment(content));
            if (content.Contains(']', StringComparison.Ordinal))
            {
                return items;
            }
        }
        return items;
    }

    private static string StripComment(string line)
    {
        var hash = line.IndexOf('#', StringComparison.Ordinal);
        return hash < 0 ? line : line[..hash];
    }

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').Select(line => line.Trim());

    private static string FileName(string relativePath) => FileClassifier.FileName(relativePath);

    private static Regex TomlArrayStart(string key) => new("^" + Regex.Escape(key) + @"\s*=\s*\[", RegexOptions.CultureInvariant);

    [GeneratedRegex("""^("[^"]+"|'[^']+'|[A-Za-z0-9_.\-]+)\s*=""", RegexOptions.CultureInvariant)]
    private static partial Regex TomlKey();

    [GeneratedRegex("""("[^"]*"|'[^']*')""", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedString();
}
