using System.ClientModel;
using System.Xml.Linq;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using OpenAI;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Packaging;

/// <summary>
/// What <c>dotnet pack</c> at the root yields is installed and used the way a user would: the tool from a local feed,
/// and <c>Baton.Core</c> referenced by a fresh application.
/// </summary>
public sealed class PackagesTests(PackagesFixture packages) : IClassFixture<PackagesFixture>
{
    private static readonly string[] LibraryOnly = ["YamlDotNet", "MAB.DotIgnore", "JsonSchema.Net", "DotNetEnv", "Spectre.Console"];

    [Theory]
    [InlineData("Baton.Core")]
    [InlineData("Baton.Gateway")]
    [InlineData("Baton.Pipelines")]
    [InlineData("Baton.Simulator")]
    [InlineData("baton")]
    public void Every_package_carries_its_metadata_readme_docs_and_symbols(string id)
    {
        var nuspec = packages.Nuspec(id);
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

        Assert.Equal(id, Field("id"));
        Assert.Equal(PackagesFixture.Version, Field("version"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("README.md", Field("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Field("description")));
        Assert.DoesNotContain("Package Description", Field("description"), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(Field("authors")));
        Assert.StartsWith("https://", metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("url")!.Value, StringComparison.Ordinal);
        var entries = packages.Entries(id);
        Assert.Contains("README.md", entries);
        Assert.True(File.Exists(Path.Combine(packages.Artifacts, $"{id}.{PackagesFixture.Version}.snupkg")), $"{id} has no symbol package.");
        if (id != "baton")
        {
            Assert.Contains($"lib/net10.0/{id}.xml", entries);
        }
    }

    [Fact]
    public void The_library_package_depends_on_none_of_what_only_the_cli_pipelines_or_gateway_need()
    {
        var dependencies = packages.Nuspec("Baton.Core").Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => e.Attribute("id")!.Value).ToList();
        var frameworkReferences = packages.Nuspec("Baton.Core").Descendants().Where(e => e.Name.LocalName == "frameworkReference")
            .Select(e => e.Attribute("name")!.Value).ToList();

        // It does have its real dependencies, so an empty list cannot pass by accident.
        Assert.Contains("Microsoft.Extensions.AI", dependencies);
        Assert.Contains("Polly.Core", dependencies);
        Assert.All(LibraryOnly, id => Assert.DoesNotContain(id, dependencies));
        Assert.DoesNotContain(dependencies, id => id.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal));
        Assert.DoesNotContain(frameworkReferences, name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        // What left Baton.Core went to the packages that need it.
        var pipelines = packages.Nuspec("Baton.Pipelines").Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).ToList();
        Assert.Contains("YamlDotNet", pipelines);
        Assert.Contains("Baton.Core", pipelines);
    }

    [Fact]
    public void The_cli_is_packed_as_a_dotnet_tool_named_baton()
    {
        var nuspec = packages.Nuspec("baton");
        var packageType = nuspec.Descendants().Single(e => e.Name.LocalName == "packageType");
        Assert.Equal("DotnetTool", packageType.Attribute("name")!.Value);
        var settings = XDocument.Load(ZipEntry("baton", "DotnetToolSettings.xml"));
        Assert.Equal("baton", settings.Descendants().Single(e => e.Name.LocalName == "Command").Attribute("Name")!.Value);
    }

    [Fact]
    public async Task The_installed_tool_shows_its_help_and_serves_answers_on_the_built_in_simulator()
    {
        var tools = Path.Combine(packages.Directory, "tools-" + Guid.NewGuid().ToString("N"));
        await ProcessRunner.RunAsync(ProcessRunner.Dotnet,
            ["tool", "install", "--tool-path", tools, "baton", "--version", PackagesFixture.Version, "--configfile", packages.NuGetConfig],
            packages.Directory, packages.Environment);
        var baton = Path.Combine(tools, "baton");

        var help = await ProcessRunner.RunAsync(baton, ["--help"], packages.Directory, packages.Environment);
        Assert.Contains("serve", help, StringComparison.Ordinal);
        Assert.Contains("analyze", help, StringComparison.Ordinal);

        // baton serve with no configuration: the built-in simulator, on loopback.
        var work = System.IO.Directory.CreateDirectory(Path.Combine(packages.Directory, "serve-" + Guid.NewGuid().ToString("N"))).FullName;
        // Up once it says it listens and /health answers; started again on another port if that one was taken meanwhile.
        await using var server = await BatonServeProcess.StartToolAsync(baton, work, packages.Environment);
        var client = new OpenAIClient(new ApiKeyCredential("unused-on-loopback"), new OpenAIClientOptions { Endpoint = new Uri(server.Http.BaseAddress!, "v1") })
            .GetChatClient("baton-sim");
        ChatCompletion answer = await client.CompleteChatAsync([new UserChatMessage("What does an orchestra conductor hold?")]);
        Assert.False(string.IsNullOrWhiteSpace(answer.Content[0].Text));
        Assert.StartsWith("baton-sim", answer.Model, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_application_references_the_packed_library_and_gets_an_answer_through_IChatClient()
    {
        // The upstream: the simulator over real HTTP, as an OpenAI-compatible provider would be.
        var simulatorUrl = $"http://127.0.0.1:{ProcessRunner.FreePort()}";
        await using var simulator = BatonHosts.BuildSimulator(simulatorUrl);
        await simulator.StartAsync();

        var app = System.IO.Directory.CreateDirectory(Path.Combine(packages.Directory, "app-" + Guid.NewGuid().ToString("N"))).FullName;
        File.Copy(packages.NuGetConfig, Path.Combine(app, "nuget.config"));
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Baton.Core" Version="{PackagesFixture.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using Baton.Configuration;
            using Baton.Hosting;
            using Microsoft.Extensions.AI;
            using Microsoft.Extensions.DependencyInjection;

            var options = new BatonOptions();
            options.Providers["upstream"] = new ProviderOptions { Type = "openai", BaseUrl = args[0] + "/v1", ApiKeyEnv = "UPSTREAM_KEY" };
            options.Models["assistant"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "upstream", Model = "baton-sim-1" }] };
            await using var services = new ServiceCollection().AddBaton(options).BuildServiceProvider();
            var client = services.GetRequiredService<IChatClient>();
            var response = await client.GetResponseAsync("Name three instruments of an orchestra.");
            Console.WriteLine("ANSWER " + response.ModelId + ": " + response.Text);
            """);
        var environment = new Dictionary<string, string>(packages.Environment) { ["UPSTREAM_KEY"] = "sk-upstream-test-0123456789" };

        var output = await ProcessRunner.RunAsync(ProcessRunner.Dotnet, ["run", "--project", app, "--", simulatorUrl], app, environment);

        var line = Assert.Single(output.Split('\n'), l => l.StartsWith("ANSWER ", StringComparison.Ordinal));
        Assert.Matches(@"^ANSWER [^:\s]+: \S+ \S+", line);
        Assert.DoesNotContain("sk-upstream-test", output, StringComparison.Ordinal);
        // It restored the Baton.Core just packed, not one from elsewhere.
        Assert.True(System.IO.Directory.Exists(Path.Combine(packages.Environment["NUGET_PACKAGES"], "baton.core", PackagesFixture.Version)));
    }

    private MemoryStream ZipEntry(string id, string name)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(packages.Package(id));
        var entry = zip.Entries.Single(e => e.Name == name);
        var copy = new MemoryStream();
        using (var stream = entry.Open())
        {
            stream.CopyTo(copy);
        }
        copy.Position = 0;
        return copy;
    }
}
