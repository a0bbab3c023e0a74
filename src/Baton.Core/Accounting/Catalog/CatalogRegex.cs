using System.Text;
using System.Text.RegularExpressions;

namespace Baton.Accounting.Catalog;

/// <summary>
/// Regexes of a price catalog. A catalog file may come from anywhere, so its patterns must not be able to stall a
/// request; a match timeout would guard that but measures wall time, and a busy machine then fails lookups of
/// perfectly harmless patterns. The non-backtracking engine runs in time linear in the input instead, with no timeout.
/// Patterns it cannot run (lookarounds, backreferences) fall back to the backtracking engine with a generous timeout.
/// </summary>
internal static class CatalogRegex
{
    private static readonly TimeSpan BacktrackingTimeout = TimeSpan.FromSeconds(2);

    // Outside a character class, these are not a character standing for itself (a backslash escapes the next one).
    private const string Metacharacters = @"\.$^{}[]()|*+?";

    public static Regex Create(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        }
        catch (NotSupportedException)
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, BacktrackingTimeout);
        }
    }

    /// <summary>
    /// The text every match of <paramref name="pattern"/>, anchored at the start of the input, begins with: its
    /// leading characters that stand for themselves, up to the first one that does not or that a quantifier makes
    /// optional. Empty when the pattern has an alternative at its top level (the prefix would belong to one branch).
    /// </summary>
    public static string LiteralPrefix(string pattern)
    {
        if (HasTopLevelAlternative(pattern))
        {
            return "";
        }
        var prefix = new StringBuilder();
        var i = 0;
        while (i < pattern.Length)
        {
            char literal;
            int next;
            if (pattern[i] == '\\')
            {
                // Only an escaped punctuation character is itself; \d, \w, \b, \1 ... are not.
                if (i + 1 >= pattern.Length || char.IsLetterOrDigit(pattern[i + 1]))
                {
                    break;
                }
                literal = pattern[i + 1];
                next = i + 2;
            }
            else if (Metacharacters.Contains(pattern[i], StringComparison.Ordinal))
            {
                break;
            }
            else
            {
                literal = pattern[i];
                next = i + 1;
            }
            if (next < pattern.Length && pattern[next] is '*' or '+' or '?' or '{')
            {
                break;
            }
            prefix.Append(literal);
            i = next;
        }
        return prefix.ToString();
    }

    private static bool HasTopLevelAlternative(string pattern)
    {
        var depth = 0;
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '\\':
                    i++;
                    break;
                case '[' when !inClass:
                    inClass = true;
                    break;
                case ']' when inClass:
                    inClass = false;
                    break;
                case '(' when !inClass:
                    depth++;
                    break;
                case ')' when !inClass:
                    depth--;
                    break;
                case '|' when !inClass && depth == 0:
                    return true;
            }
        }
        return false;
    }
}

/// <summary>
/// A catalog pattern, built only when an input could match it. Building a non-backtracking regex costs about a
/// megabyte of tables, and a lookup tries every provider's URL pattern in turn: most begin with a literal
/// (<c>https://api\.openai\.com</c>), and an input that does not begin with it cannot match, so it is refused
/// without building anything. A gateway whose providers are not in the catalog builds almost none.
/// </summary>
internal sealed class CatalogPattern
{
    private readonly string _prefix;
    private readonly Lazy<Regex> _regex;

    private CatalogPattern(string prefix, Func<Regex> build)
    {
        _prefix = prefix;
        _regex = new Lazy<Regex>(build);
    }

    /// <summary>A pattern that matches only at the start of the input, as Python's <c>re.match</c>.</summary>
    public static CatalogPattern AtStart(string pattern) =>
        new(CatalogRegex.LiteralPrefix(pattern), () => CatalogRegex.Create(@"\A(?:" + pattern + ")"));

    /// <summary>A pattern that searches anywhere in the input unless it anchors itself, as Python's <c>re.search</c>.</summary>
    public static CatalogPattern Search(string pattern)
    {
        var anchored = pattern.StartsWith('^') ? pattern[1..] : pattern.StartsWith(@"\A", StringComparison.Ordinal) ? pattern[2..] : null;
        return new(anchored is null ? "" : CatalogRegex.LiteralPrefix(anchored), () => CatalogRegex.Create(pattern));
    }

    /// <summary>Whether the regex has been built (an input passed the literal prefix).</summary>
    public bool IsBuilt => _regex.IsValueCreated;

    public bool IsMatch(string input) => input.StartsWith(_prefix, StringComparison.Ordinal) && _regex.Value.IsMatch(input);
}
