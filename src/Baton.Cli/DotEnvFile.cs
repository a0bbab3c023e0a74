namespace Baton.Cli;

/// <summary>
/// Loads a <c>.env</c> file from the working directory into the process environment, so that provider keys can
/// live next to <c>baton.json</c> without being in it. It never overrides a variable already set: the real
/// environment (a CI secret, a container's variables) wins over a file on disk.
/// </summary>
internal static class DotEnvFile
{
    public const string FileName = ".env";

    public static void Load(string workingDirectory)
    {
        var path = Path.Combine(workingDirectory, FileName);
        if (File.Exists(path))
        {
            DotNetEnv.Env.Load(path, new DotNetEnv.LoadOptions(setEnvVars: true, clobberExistingVars: false, onlyExactPath: true));
        }
    }
}
