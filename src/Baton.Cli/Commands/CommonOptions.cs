using System.CommandLine;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Pipelines;
using Microsoft.AspNetCore.Builder;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>Options and start-up steps shared by several commands.</summary>
internal static class CommonOptions
{
    public static Option<string?> Config() => new("--config", "-c")
    {
        Description = $"Configuration file (default: {BatonConfigurationLoader.DefaultFileName} in the working directory, else the built-in simulator).",
    };

    /// <summary>
    /// Loads and validates the configuration. On failure it prints every problem with its key path and
    /// returns null; the command then exits with code 2, without a stack trace.
    /// </summary>
    public static LoadedConfiguration? Load(CliConsole console, string? configFile, bool watch = false)
    {
        try
        {
            DotEnvFile.Load(console.WorkingDirectory);
            var loaded = BatonConfigurationLoader.Load(configFile, console.WorkingDirectory, watch);
            AnchorFiles(loaded.Options, console.WorkingDirectory);
            // The engine's checks and the pipelines' files, reported together so one run shows every problem.
            var errors = BatonOptionsValidator.Validate(loaded.Options, Environment.GetEnvironmentVariable)
                .Concat(PipelineCatalog.Validate(loaded.Options))
                .Distinct(StringComparer.Ordinal)
                .ToList();
            if (errors.Count > 0)
            {
                throw new BatonConfigurationException(errors);
            }
            return loaded;
        }
        catch (BatonConfigurationException ex)
        {
            WriteErrors(console, ex);
            return null;
        }
    }

    /// <summary>Every problem of <paramref name="invalid"/>, one a line, without a stack trace.</summary>
    public static void WriteErrors(CliConsole console, BatonConfigurationException invalid)
    {
        console.Error.WriteLine("baton: the configuration is not valid:");
        foreach (var error in invalid.Errors)
        {
            console.Error.WriteLine("  - " + error);
        }
    }

    public const int ConfigurationError = 2;

    /// <summary><c>--format table|json</c>: a table for people, JSON for scripts.</summary>
    public static Option<string> Format()
    {
        var format = new Option<string>("--format") { Description = "table (default) or json.", DefaultValueFactory = _ => TableFormat };
        format.AcceptOnlyFromAmong(TableFormat, JsonFormat);
        return format;
    }

    public const string TableFormat = "table";
    public const string JsonFormat = "json";

    private static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <paramref name="value"/> as indented snake_case JSON, the gateway's own shape, to standard output.</summary>
    public static void WriteJson<T>(CliConsole console, T value) =>
        console.Out.Profile.Out.Writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(value, Json));

    /// <summary>The exit code of a server command that could not start listening.</summary>
    public const int StartError = 3;

    /// <summary>
    /// Starts a server; when it cannot listen, says so in one line naming the address and the option that changes
    /// it (no stack trace) and returns false.
    /// </summary>
    public static async Task<bool> StartAsync(CliConsole console, WebApplication app, string address, CancellationToken cancellationToken, string option = "--urls")
    {
        try
        {
            await BatonHosts.StartAsync(app, cancellationToken);
            return true;
        }
        catch (IOException ex)
        {
            await app.DisposeAsync();
            console.Error.WriteLine(BatonHosts.IsAddressInUse(ex)
                ? $"baton: cannot listen on {address}: the address is already in use (another Baton, or another program, holds it). Stop it, or choose another address with {option}."
                : $"baton: cannot listen on {address}: {(ex.InnerException ?? ex).Message} Choose another address with {option}.");
            return false;
        }
    }

    /// <summary>
    /// Relative ledger, budget, key, batch jobs, pipeline and TLS certificate files are relative to the command's
    /// working directory.
    /// </summary>
    public static void AnchorFiles(BatonOptions options, string workingDirectory)
    {
        [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(file))]
        string? Anchored(string? file) => string.IsNullOrWhiteSpace(file) ? file : Path.GetFullPath(file, workingDirectory);

        foreach (var (name, file) in options.Pipelines.ToList())
        {
            options.Pipelines[name] = Anchored(file);
        }
        options.Ledger.Path = Anchored(options.Ledger.Path);
        options.Budgets.Path = Anchored(options.Budgets.Path);
        options.Auth.Path = Anchored(options.Auth.Path);
        options.Gateway.Tls.CertificatePath = Anchored(options.Gateway.Tls.CertificatePath);
        options.Gateway.Tls.KeyPath = Anchored(options.Gateway.Tls.KeyPath);
        options.Batch.JobsDatabase = Anchored(options.Batch.JobsDatabase);
    }

    /// <summary>Says plainly when Baton runs on its built-in simulator instead of real providers.</summary>
    public static void AnnounceSource(CliConsole console, LoadedConfiguration loaded)
    {
        if (loaded.FilePath is null)
        {
            console.Out.MarkupLine("[yellow]No configuration found: using Baton's built-in simulator (no API keys needed; answers are simulated).[/]");
            console.Out.MarkupLine($"[grey]Create {BatonConfigurationLoader.DefaultFileName} or pass --config to use real providers (see docs/configuration.md).[/]");
        }
        else
        {
            console.Out.MarkupLine($"[grey]Configuration: {Markup.Escape(loaded.FilePath)}[/]");
        }
    }
}
