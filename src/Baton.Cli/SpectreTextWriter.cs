using System.Text;

namespace Baton.Cli;

/// <summary>Routes System.CommandLine's help text to the CLI's console.</summary>
internal sealed class SpectreTextWriter(CliConsole console) : TextWriter
{
    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value) => console.Out.Profile.Out.Writer.Write(value);

    public override void Write(string? value) => console.Out.Profile.Out.Writer.Write(value);

    public override void WriteLine(string? value) => console.Out.Profile.Out.Writer.WriteLine(value);
}
