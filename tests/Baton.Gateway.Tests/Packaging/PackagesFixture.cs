using System.IO.Compression;
using System.Xml.Linq;

namespace Baton.Gateway.Tests.Packaging;

/// <summary>
/// Packs the repository once for all packaging tests, into a temporary folder, and gives restores a private packages
/// folder: a package of the same version restored earlier (from another build) can never stand in for the one just packed.
/// </summary>
public sealed class PackagesFixture : IAsyncLifetime
{
    public const string Version = "0.1.0";

    public string Root { get; } = ProcessRunner.RepositoryRoot();

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("baton-packages-").FullName;

    public string Artifacts => Path.Combine(Directory, "artifacts");

    /// <summary>A nuget.config with the packed artifacts, the machine's package cache as a local feed and nuget.org.</summary>
    public string NuGetConfig => Path.Combine(Directory, "nuget.config");

    /// <summary>Environment for dotnet commands: a private global packages folder, and no telemetry or banners.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["NUGET_PACKAGES"] = Path.Combine(Directory, "packages"),
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
    };

    public async Task InitializeAsync()
    {
        // The test run has just built every project in this configuration: pack those very binaries.
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        await ProcessRunner.RunAsync(ProcessRunner.Dotnet,
            ["pack", Path.Combine(Root, "Baton.slnx"), "--no-build", "-c", configuration, "-p:PackageOutputPath=" + Artifacts],
            Root, Environment);

        var machineCache = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var config = new XElement("configuration",
            new XElement("packageSources",
                new XElement("clear"),
                new XElement("add", new XAttribute("key", "artifacts"), new XAttribute("value", Artifacts)),
                new XElement("add", new XAttribute("key", "machine-cache"), new XAttribute("value", machineCache)),
                new XElement("add", new XAttribute("key", "nuget.org"), new XAttribute("value", "https://api.nuget.org/v3/index.json"))));
        File.WriteAllText(NuGetConfig, config.ToString());
    }

    public Task DisposeAsync()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A tool process that is still exiting may hold a file; the temporary folder is left to the system then.
        }
        return Task.CompletedTask;
    }

    public string Package(string id) => Path.Combine(Artifacts, $"{id}.{Version}.nupkg");

    /// <summary>The .nuspec inside the package <paramref name="id"/>.</summary>
    public XDocument Nuspec(string id)
    {
        using var zip = ZipFile.OpenRead(Package(id));
        var entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/', StringComparison.Ordinal));
        using var stream = entry.Open();
        return XDocument.Load(stream);
    }

    public IReadOnlyList<string> Entries(string id)
    {
        using var zip = ZipFile.OpenRead(Package(id));
        return zip.Entries.Select(e => e.FullName).ToList();
    }
}
