using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Baton.Configuration;

/// <summary>
/// Walks a configuration tree against the options types before binding, and reports every unknown key and every
/// value of the wrong type at once, each with its full key path (<c>providers.sim.timeoutSeconds</c>) and, for a
/// typo, the known key it most resembles. The binder itself stops at the first problem and often names no path.
/// Known keys come from the options classes by reflection, so a new option is known as soon as it is declared.
/// </summary>
internal static class ConfigurationChecker
{
    /// <param name="configuration">The tree to check.</param>
    /// <param name="optionsType">The options type it binds to.</param>
    /// <param name="pathOf">The tree whose path prefixes the paths reported (the tree itself by default).</param>
    public static IReadOnlyList<string> Check(IConfiguration configuration, Type optionsType, IConfiguration? pathOf = null)
    {
        var errors = new List<string>();
        // Under appsettings.json the keys live in the Baton section; the paths reported say so.
        var root = (pathOf ?? configuration) is IConfigurationSection section ? section.Path.Replace(':', '.') : "";
        CheckObject(configuration.GetChildren(), optionsType, root, errors);
        return errors;
    }

    private static void CheckObject(IEnumerable<IConfigurationSection> children, Type type, string path, List<string> errors, string? entryKey = null)
    {
        var properties = BindableProperties(type);
        foreach (var child in children)
        {
            var childPath = Join(path, child.Key);
            if (!properties.TryGetValue(child.Key, out var property))
            {
                var suggestion = Suggest(child.Key, properties.Values.Select(p => CamelCase(p.Name)));
                if (entryKey is not null && !suggestion.StartsWith("did you mean", StringComparison.Ordinal))
                {
                    // Configuration keys use ':' as their separator, so a model id such as "x/y:free" becomes two levels.
                    suggestion += $" (A ':' separates configuration sections, so '{entryKey}:{child.Key}' is read as '{entryKey}' holding '{child.Key}'.)";
                }
                errors.Add($"{childPath}: unknown key; {suggestion}");
                continue;
            }
            CheckSection(child, property.PropertyType, Join(path, CamelCase(property.Name)), errors);
        }
    }

    private static void CheckSection(IConfigurationSection section, Type type, string path, List<string> errors, bool dictionaryEntry = false)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(object) || typeof(IConfiguration).IsAssignableFrom(target))
        {
            return;
        }
        var children = section.GetChildren().ToList();
        if (IsScalar(target))
        {
            if (children.Count > 0)
            {
                errors.Add($"{path}: expected {Describe(target)}, found an object or a list.");
            }
            else if (!string.IsNullOrEmpty(section.Value) && !Converts(section.Value, target))
            {
                errors.Add($"{path}: '{section.Value}' is not {Describe(target)}.");
            }
            return;
        }
        // An empty object or list in JSON reads as an empty value; the binder leaves the default in place.
        if (children.Count == 0)
        {
            if (!string.IsNullOrEmpty(section.Value))
            {
                errors.Add($"{path}: expected {(ElementType(target) is null ? "an object" : "a list or an object")}, found the value '{section.Value}'.");
            }
            return;
        }
        if (DictionaryValueType(target) is { } valueType)
        {
            // Dictionaries (providers, models, prices, ...) take any key; their values are checked.
            foreach (var child in children)
            {
                CheckSection(child, valueType, Join(path, child.Key), errors, dictionaryEntry: true);
            }
            return;
        }
        if (ElementType(target) is { } elementType)
        {
            foreach (var child in children)
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add($"{Join(path, child.Key)}: unknown key; {path} is a list (write it as a JSON array).");
                    continue;
                }
                CheckSection(child, elementType, $"{path}[{child.Key}]", errors);
            }
            return;
        }
        CheckObject(children, target, path, errors, dictionaryEntry ? section.Key : null);
    }

    private static Dictionary<string, PropertyInfo> BindableProperties(Type type)
    {
        var properties = new Dictionary<string, PropertyInfo>(StringComparer.OrdinalIgnoreCase);
        for (var current = type; current is not null && current != typeof(object); current = current.BaseType)
        {
            foreach (var property in current.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (property.GetIndexParameters().Length == 0 && property.GetMethod is { IsPublic: true })
                {
                    var name = property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name;
                    properties.TryAdd(name, property);
                }
            }
        }
        return properties;
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTime) ||
        type == typeof(DateTimeOffset) || type == typeof(TimeSpan) || type == typeof(Guid) || type == typeof(Uri);

    private static bool Converts(string value, Type type)
    {
        if (type == typeof(string))
        {
            return true;
        }
        if (type.IsEnum)
        {
            return Enum.TryParse(type, value, ignoreCase: true, out _);
        }
        try
        {
            // The converter the binder itself uses, so what passes here binds.
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    private static string Describe(Type type)
    {
        if (type == typeof(bool))
        {
            return "true or false";
        }
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(uint) || type == typeof(ulong) || type == typeof(byte))
        {
            return "a whole number";
        }
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return "a number";
        }
        if (type == typeof(TimeSpan))
        {
            return "a duration (hh:mm:ss)";
        }
        if (type == typeof(Uri))
        {
            return "a URL";
        }
        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type).Select(CamelCase));
        }
        return type == typeof(string) ? "a text value" : "a " + type.Name;
    }

    private static Type? DictionaryValueType(Type type)
    {
        foreach (var candidate in type.IsInterface ? type.GetInterfaces().Append(type) : type.GetInterfaces())
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IDictionary<,>))
            {
                return candidate.GetGenericArguments()[1];
            }
        }
        return null;
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type) || DictionaryValueType(type) is not null)
        {
            return null;
        }
        foreach (var candidate in type.GetInterfaces().Append(type))
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                return candidate.GetGenericArguments()[0];
            }
        }
        return null;
    }

    /// <summary>"did you mean X?" for the closest known key, else the list of known keys.</summary>
    internal static string Suggest(string key, IEnumerable<string> known)
    {
        var names = known.Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (names.Count == 0)
        {
            return "this section takes no keys.";
        }
        var best = names
            .Select(name => (Name: name, Distance: Distance(key.ToLowerInvariant(), name.ToLowerInvariant())))
            .OrderBy(candidate => candidate.Distance)
            .First();
        // Close enough to be a typo: a few edits, fewer for short names.
        return best.Distance <= Math.Max(1, Math.Min(3, best.Name.Length / 3))
            ? $"did you mean {best.Name}?"
            : $"expected one of {string.Join(", ", names)}.";
    }

    /// <summary>Edit distance counting an insertion, deletion, substitution or swap of neighbours as one edit.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string CamelCase(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name[1..];
}
