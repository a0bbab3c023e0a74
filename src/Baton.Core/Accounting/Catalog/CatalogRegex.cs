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
}
