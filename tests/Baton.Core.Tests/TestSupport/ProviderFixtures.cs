namespace Baton.Core.Tests.TestSupport;

/// <summary>The example payloads under Providers/Fixtures (see SOURCES.md there), copied next to the test assembly.</summary>
public static class ProviderFixtures
{
    public static byte[] Bytes(string provider, string name) => File.ReadAllBytes(FullPath(provider, name));

    public static string Text(string provider, string name) => File.ReadAllText(FullPath(provider, name));

    private static string FullPath(string provider, string name) => Path.Combine(AppContext.BaseDirectory, "Providers", "Fixtures", provider, name);
}
