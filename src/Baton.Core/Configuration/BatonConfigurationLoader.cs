using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;

namespace Baton.Configuration;

/// <summary>
/// Builds Baton's configuration for the CLI and the stand-alone gateway: a JSON file (<c>--config</c>, else
/// <c>baton.json</c> in the working directory), overridden by <c>Baton__</c> environment variables. With
/// neither, the built-in simulator default is used. (The CLI loads a <c>.env</c> file into the environment
/// before calling it; the library leaves the process environment alone.)
/// </summary>
public static class BatonConfigurationLoader
{
    /// <summary>The file read from the working directory when no <c>--config</c> is given.</summary>
    public const string DefaultFileName = "baton.json";
    /// <summary>
    /// The prefix of the environment variables that override the file; <c>__</c> separates nested keys
    /// (<c>Baton__Cache__Mode=on</c>).
    /// </summary>
    public const string EnvironmentPrefix = "Baton__";

    /// <param name="configFile">The file given with <c>--config</c>, if any.</param>
    /// <param name="workingDirectory">Where <c>baton.json</c> is looked for.</param>
    /// <param name="watch">Watch the file for changes (for a long-running gateway; each watch holds an OS file watcher).</param>
    public static LoadedConfiguration Load(string? configFile, string workingDirectory, bool watch = false)
    {
        string? path = null;
        if (configFile is not null)
        {
            path = Path.GetFullPath(configFile, workingDirectory);
            if (!File.Exists(path))
            {
                throw new BatonConfigurationException([$"--config: the file '{configFile}' does not exist."]);
            }
        }
        else if (File.Exists(Path.Combine(workingDirectory, DefaultFileName)))
        {
            path = Path.Combine(workingDirectory, DefaultFileName);
        }

        var builder = new ConfigurationBuilder();
        if (path is not null)
        {
            CheckJson(path);
            builder.AddJsonFile(source =>
            {
                source.Path = Path.GetFileName(path);
                source.Optional = false;
                source.ReloadOnChange = watch;
                source.FileProvider = FileProviderFor(Path.GetDirectoryName(path)!, watch);
            });
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);

        IConfigurationRoot configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new BatonConfigurationException([$"{Path.GetFileName(path)}: not valid JSON: {(ex.InnerException ?? ex).Message}"]);
        }

        var options = Bind(configuration);
        if (path is null && options.Providers.Count == 0 && options.Models.Count == 0)
        {
            return new LoadedConfiguration(BuiltInConfiguration.Create(), configuration, null);
        }
        return new LoadedConfiguration(options, configuration, path);
    }

    /// <summary>
    /// The folder of the configuration file. Watched, its one file is polled (every four seconds) rather than the
    /// folder handed to an OS file watcher: that watcher reports every change below the folder, and the ledger, the
    /// cache and the batch store write their SQLite files there (by default) many times a second, each change woken
    /// up for and matched against the file's name.
    /// </summary>
    private static PhysicalFileProvider FileProviderFor(string directory, bool watch) =>
        new(directory) { UsePollingFileWatcher = watch, UseActivePolling = watch };

    /// <summary>
    /// Binds a configuration tree (the file root, or the <c>Baton</c> section) to options. Every unknown key and
    /// every value of the wrong type is reported at once, with its key path and the known key it most resembles.
    /// </summary>
    public static BatonOptions Bind(IConfiguration configuration)
    {
        // The prices section is read by hand (its keys may hold ':'), and checked as it is read.
        var withoutPrices = PricesSectionReader.Without(configuration);
        var problems = ConfigurationChecker.Check(withoutPrices, typeof(BatonOptions), pathOf: configuration).ToList();
        var prices = PricesSectionReader.Read(configuration, problems);
        if (problems.Count > 0)
        {
            throw new BatonConfigurationException(problems);
        }
        var options = new BatonOptions();
        try
        {
            withoutPrices.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            throw new BatonConfigurationException([Describe(ex)]);
        }
        options.Prices = prices;
        return options;
    }

    /// <summary>
    /// Parses the file the way the JSON configuration provider does (comments and trailing commas allowed), to
    /// report a syntax error with its line and column rather than the provider's bare "could not parse".
    /// </summary>
    private static void CheckJson(string path)
    {
        var options = new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true };
        try
        {
            using var stream = File.OpenRead(path);
            using var document = System.Text.Json.JsonDocument.Parse(stream, options);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new BatonConfigurationException([$"{Path.GetFileName(path)}: the configuration must be a JSON object ({{ ... }}), not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}."]);
            }
        }
        catch (System.Text.Json.JsonException ex)
        {
            // The reader's message ends with its own zero-based position; the user gets one-based line and column.
            var reason = ex.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut < 0)
            {
                cut = reason.IndexOf(" Path:", StringComparison.Ordinal);
            }
            reason = cut > 0 ? reason[..cut] : reason;
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : "";
            throw new BatonConfigurationException([$"{Path.GetFileName(path)}: not valid JSON{where}: {reason}"]);
        }
    }

    private static string Describe(InvalidOperationException ex)
    {
        // The binder's message names the key; the inner exception says what was wrong with its value.
        var message = ex.Message;
        if (ex.InnerException is not null)
        {
            message += " " + ex.InnerException.Message;
        }
        return message.Replace("'Baton.Configuration.", "'", StringComparison.Ordinal);
    }
}

/// <summary>The options in force, the configuration they came from, and the file (null for the built-in default).</summary>
public sealed record LoadedConfiguration(BatonOptions Options, IConfiguration Configuration, string? FilePath);
