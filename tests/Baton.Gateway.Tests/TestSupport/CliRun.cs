using Baton.Cli;

namespace Baton.Gateway.Tests.TestSupport;

/// <summary>Runs the <c>baton</c> command in process, in a working directory, with captured input and output.</summary>
public static class CliRun
{
    public static async Task<(int Exit, string Out, string Error)> RunAsync(string directory, string input, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = CliConsole.CreatePlain(output, error, new StringReader(input), directory);
        var exit = await BatonCli.RunAsync(args, console);
        return (exit, output.ToString(), error.ToString());
    }
}
