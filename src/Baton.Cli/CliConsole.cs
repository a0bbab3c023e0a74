using Spectre.Console;

namespace Baton.Cli;

/// <summary>Where the CLI reads and writes: the terminal in normal use, captured text in tests.</summary>
public sealed class CliConsole(IAnsiConsole output, TextWriter error, TextReader input, string workingDirectory)
{
    public IAnsiConsole Out { get; } = output;

    public TextWriter Error { get; } = error;

    public TextReader In { get; } = input;

    public string WorkingDirectory { get; } = workingDirectory;

    /// <summary>Where environment variables are read (the gateway keys of <c>--url</c> commands); the process environment by default.</summary>
    public Func<string, string?> Environment { get; set; } = System.Environment.GetEnvironmentVariable;

    public static CliConsole CreateDefault()
    {
        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            // Piped or redirected output has no terminal width, and Spectre would assume 80 columns and cut table
            // cells to "B…". A file or a pipe takes long lines, so tables keep one line per row.
            console.Profile.Width = RedirectedWidth;
        }
        return new CliConsole(console, Console.Error, Console.In, Directory.GetCurrentDirectory());
    }

    /// <summary>The width tables are laid out for when standard output is not a terminal.</summary>
    public const int RedirectedWidth = 240;

    /// <summary>A console that writes plain text (no colours, no cursor movement) to <paramref name="output"/>.</summary>
    public static CliConsole CreatePlain(TextWriter output, TextWriter error, TextReader input, string workingDirectory)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        // Captured text has no terminal to fit; wide enough that tables keep one line per row.
        console.Profile.Width = 160;
        return new CliConsole(console, error, input, workingDirectory);
    }
}
