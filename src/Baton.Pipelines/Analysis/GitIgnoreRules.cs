using MAB.DotIgnore;

namespace Baton.Analysis;

/// <summary>
/// The <c>.gitignore</c> files in force for one folder: its own and its ancestors' (up to the project root).
/// Git lets a deeper file override a shallower one, and within a file the last matching pattern wins; a negated
/// pattern re-includes. Patterns are parsed and matched by MAB.DotIgnore, one rule at a time, because its
/// <c>IgnoreList</c> only answers "ignored or not" and cannot say "no pattern here matched, ask the parent file".
/// </summary>
internal sealed class GitIgnoreRules
{
    private readonly GitIgnoreRules? _parent;
    private readonly string _baseRelativePath;
    private readonly IReadOnlyList<IgnoreRule> _rules;

    private GitIgnoreRules(GitIgnoreRules? parent, string baseRelativePath, IReadOnlyList<IgnoreRule> rules)
    {
        _parent = parent;
        _baseRelativePath = baseRelativePath;
        _rules = rules;
    }

    /// <summary>Rules that ignore nothing: the start for a project root.</summary>
    public static GitIgnoreRules None { get; } = new(null, "", []);

    /// <summary>
    /// The rules for a folder: these rules, plus the folder's own <c>.gitignore</c> when it has one.
    /// </summary>
    /// <param name="folderRelativePath">The folder relative to the project root, with <c>/</c> separators ("" for the root).</param>
    /// <param name="gitIgnoreLines">The lines of the folder's <c>.gitignore</c>, or null when it has none.</param>
    public GitIgnoreRules ForFolder(string folderRelativePath, IEnumerable<string>? gitIgnoreLines)
    {
        if (gitIgnoreLines is null)
        {
            return this;
        }

        var rules = new List<IgnoreRule>();
        var lineNumber = 0;
        foreach (var rawLine in gitIgnoreLines)
        {
            lineNumber++;
            var line = TrimUnescapedTrailingSpaces(rawLine);
            if (line.Length == 0 || line[0] == '#' || line == "!" || line == "/")
            {
                continue;
            }
            try
            {
                rules.Add(new IgnoreRule(line, MatchFlags.PATHNAME, lineNumber));
            }
            catch (ArgumentException)
            {
                // Git skips a pattern it cannot parse (an unclosed bracket, say); so does the scan.
            }
        }
        return rules.Count == 0 ? this : new GitIgnoreRules(this, folderRelativePath, rules);
    }

    /// <summary>Whether the entry at <paramref name="relativePath"/> (from the project root) is ignored.</summary>
    public bool IsIgnored(string relativePath, bool isDirectory)
    {
        for (var rules = this; rules is not null; rules = rules._parent)
        {
            var pathInRulesFolder = rules._baseRelativePath.Length == 0
                ? relativePath
                : relativePath[(rules._baseRelativePath.Length + 1)..];
            for (var i = rules._rules.Count - 1; i >= 0; i--)
            {
                var rule = rules._rules[i];
                if (rule.IsMatch(pathInRulesFolder, isDirectory))
                {
                    return (rule.PatternFlags & PatternFlags.NEGATION) == 0;
                }
            }
        }
        return false;
    }

    // Git drops trailing spaces unless they are escaped with a backslash.
    private static string TrimUnescapedTrailingSpaces(string line)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] == ' ' && !(end > 1 && line[end - 2] == '\\'))
        {
            end--;
        }
        return line[..end].TrimEnd('\r');
    }
}
