using System.Diagnostics;
using System.Text;
using Baton.Analysis;

namespace Baton.Core.Tests.Analysis;

public sealed class ProjectScannerTests
{
    private readonly ProjectScanner _scanner = new();

    [Fact]
    public void Python_project_is_described_with_exact_counts()
    {
        using var project = TempProject.Python();

        var input = _scanner.Scan(project.Root).Project;

        Assert.Equal("pyapp", input.Name);
        Assert.Equal(project.Root, input.Path);
        Assert.Equal(["python"], input.Languages);

        var code = input.CodeAnalysis;
        Assert.Equal(10, code.TotalFiles);
        Assert.Equal(4, code.SourceFiles);
        Assert.Equal(10, code.TotalLines);
        Assert.Equal(0, code.BinaryFiles);
        Assert.Equal([new LanguageStatistics("python", 4, 10)], code.Languages);
        Assert.Equal(
            [new FileLines("app/main.py", 4), new FileLines("tests/test_main.py", 4), new FileLines("app/util.py", 2), new FileLines("app/__init__.py", 0)],
            code.LargestFiles);
        Assert.True(code.Tests.Present);
        Assert.Equal(1, code.Tests.TestFileCount);
        Assert.Equal(["tests"], code.Tests.TestFolders);
        Assert.Equal([new DependencyManifest("requirements.txt", "python", 2, null)], code.DependencyManifests);
        Assert.Equal(1, code.TodoCount);
        Assert.Equal(1, code.FixmeCount);
        Assert.Equal(0, code.HackCount);
        Assert.Equal(["app/main.py"], code.EntryPoints);

        var deployment = input.DeploymentAnalysis;
        Assert.Equal(["Dockerfile"], deployment.Dockerfiles);
        Assert.Equal([new CiWorkflow(".github/workflows/ci.yml", "github_actions")], deployment.CiWorkflows);
        Assert.Equal([".env.example"], deployment.EnvExamples);
        Assert.Empty(deployment.ComposeFiles);
        Assert.Empty(deployment.KubernetesManifests);
        Assert.Empty(deployment.HostingConfigs);
        Assert.True(deployment.Readiness.Containerized);
        Assert.True(deployment.Readiness.HasCi);
        Assert.False(deployment.Readiness.HasRunTarget);
        Assert.Equal("partial", deployment.Readiness.Level);
        Assert.Equal(["run_target"], deployment.Readiness.Missing);

        var docs = input.DocAnalysis;
        Assert.True(docs.HasReadme);
        Assert.NotNull(docs.Readme);
        Assert.Equal("README.md", docs.Readme.Path);
        Assert.Equal(Encoding.UTF8.GetByteCount(TempProject.PythonReadme), docs.Readme.Bytes);
        Assert.Equal(12, docs.Readme.Lines);
        Assert.Equal(17, docs.Readme.Words);
        Assert.Equal([new ReadmeSection(1, "Demo"), new ReadmeSection(2, "Install"), new ReadmeSection(2, "Usage")], docs.Readme.Sections);
        Assert.True(docs.HasLicense);
        Assert.Equal(new LicenseSummary("LICENSE", "MIT"), docs.License);
        Assert.False(docs.HasDocsFolder);
        Assert.Equal(0, docs.DocFileCount);
        Assert.False(docs.HasChangelog);
        Assert.False(docs.HasContributing);
    }

    [Fact]
    public void Node_project_counts_dependencies_and_finds_deployment_files()
    {
        using var project = new TempProject("web")
            .Write("package.json", """{"name":"web","main":"./src/server.js","dependencies":{"express":"^4","pg":"^8"},"devDependencies":{"jest":"^29"}}""")
            .Write("src/server.js", "const express = require('express');\n// HACK: inline config\nexpress().listen(3000);\n")
            .Write("src/server.test.js", "test('x', () => {});\n")
            .Write("src/types.ts", "export type Id = string;")
            .Write("node_modules/express/index.js", "module.exports = {};\n")
            .Write("Dockerfile.prod", "FROM node:22\n")
            .Write("docker-compose.yml", "services:\n  web:\n    build: .\n")
            .Write("k8s/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n")
            .Write("k8s/values.yaml", "replicas: 2\n")
            .Write("vercel.json", "{}")
            .Write("docs/guide.md", "# Guide\n")
            .Write("docs/img/logo.png", "not really a png")
            .Write("CHANGELOG.md", "# 1.0\n");

        var input = _scanner.Scan(project.Root).Project;

        Assert.Equal(["nodejs"], input.Languages);
        var code = input.CodeAnalysis;
        Assert.Equal(12, code.TotalFiles);
        Assert.Equal([new LanguageStatistics("javascript", 2, 4), new LanguageStatistics("typescript", 1, 1)], code.Languages);
        Assert.Equal([new DependencyManifest("package.json", "nodejs", 2, 1)], code.DependencyManifests);
        Assert.Equal(1, code.Tests.TestFileCount);
        Assert.Empty(code.Tests.TestFolders);
        Assert.Equal(1, code.HackCount);
        Assert.Equal(["src/server.js"], code.EntryPoints);

        var deployment = input.DeploymentAnalysis;
        Assert.Equal(["Dockerfile.prod"], deployment.Dockerfiles);
        Assert.Equal(["docker-compose.yml"], deployment.ComposeFiles);
        Assert.Equal(["k8s/deployment.yaml"], deployment.KubernetesManifests);
        Assert.Equal([new HostingConfig("vercel.json", "vercel")], deployment.HostingConfigs);
        Assert.Empty(deployment.CiWorkflows);
        Assert.Equal("partial", deployment.Readiness.Level);
        Assert.Equal(["ci", "env_example"], deployment.Readiness.Missing);

        var docs = input.DocAnalysis;
        Assert.False(docs.HasReadme);
        Assert.Null(docs.Readme);
        Assert.True(docs.HasDocsFolder);
        Assert.Equal(["docs"], docs.DocsFolders);
        Assert.Equal(2, docs.DocFileCount);
        Assert.True(docs.HasChangelog);
        Assert.False(docs.HasLicense);
    }

    [Fact]
    public void Dotnet_project_skips_bin_and_obj_and_reads_project_files()
    {
        using var project = new TempProject("svc")
            .Write("Svc.slnx", "<Solution />\n")
            .Write("src/Svc/Svc.csproj", """
                <Project Sdk="Microsoft.NET.Sdk">
                  <ItemGroup>
                    <PackageReference Include="Polly.Core" />
                    <PackageReference Include="Serilog" Version="4.0.0" />
                  </ItemGroup>
                </Project>
                """)
            .Write("src/Svc/Program.cs", "Console.WriteLine(\"hi\");\n")
            .Write("src/Svc/bin/Debug/Svc.cs", "// build output\n")
            .Write("src/Svc/obj/Svc.AssemblyInfo.cs", "// generated\n")
            .Write("tests/Svc.Tests/Svc.Tests.csproj", """
                <Project Sdk="Microsoft.NET.Sdk">
                  <ItemGroup>
                    <PackageReference Include="xunit" />
                    <PackageReference Include="xunit.runner.visualstudio" />
                    <PackageReference Include="Microsoft.NET.Test.Sdk" />
                  </ItemGroup>
                </Project>
                """)
            .Write("tests/Svc.Tests/ProgramTests.cs", "public class ProgramTests { }\n")
            .Write("azure-pipelines.yml", "trigger: [main]\n")
            .Write("LICENSE.txt", "                                 Apache License\n                           Version 2.0, January 2004\n");

        var input = _scanner.Scan(project.Root).Project;

        Assert.Equal(["csharp"], input.Languages);
        var code = input.CodeAnalysis;
        Assert.Equal(7, code.TotalFiles);
        Assert.Equal([new LanguageStatistics("csharp", 2, 2)], code.Languages);
        Assert.Equal(
            [new DependencyManifest("src/Svc/Svc.csproj", "csharp", 2, null), new DependencyManifest("tests/Svc.Tests/Svc.Tests.csproj", "csharp", 3, null)],
            code.DependencyManifests);
        Assert.Equal(1, code.Tests.TestFileCount);
        Assert.Equal(["tests"], code.Tests.TestFolders);
        Assert.Equal(["src/Svc/Program.cs"], code.EntryPoints);
        Assert.Equal([new CiWorkflow("azure-pipelines.yml", "azure_pipelines")], input.DeploymentAnalysis.CiWorkflows);
        Assert.Equal(new LicenseSummary("LICENSE.txt", "Apache-2.0"), input.DocAnalysis.License);
    }

    [Fact]
    public void Binary_files_are_counted_but_not_line_counted()
    {
        using var project = new TempProject()
            .Write("main.py", "print(1)\n")
            .WriteBytes("assets/logo.png", [0x89, 0x50, 0x4E, 0x47, 0x00, 0x0A, 0x0A, 0x0A])
            .WriteBytes("native.c", [0x69, 0x6E, 0x74, 0x00, 0x0A]);

        var code = _scanner.Scan(project.Root).Project.CodeAnalysis;

        Assert.Equal(3, code.TotalFiles);
        Assert.Equal(2, code.BinaryFiles);
        Assert.Equal(1, code.SourceFiles);
        Assert.Equal(1, code.TotalLines);
        Assert.Equal([new LanguageStatistics("python", 1, 1)], code.Languages);
    }

    [Fact]
    public void Files_over_the_read_limit_are_counted_but_not_line_counted()
    {
        using var project = new TempProject()
            .Write("small.py", "a = 1\nb = 2\n")
            .Write("huge.py", string.Concat(Enumerable.Repeat("x = 1  # TODO\n", 100)));
        var scanner = new ProjectScanner(new ProjectScannerOptions { MaxBytesReadPerFile = 100 });

        var code = scanner.Scan(project.Root).Project.CodeAnalysis;

        Assert.Equal(2, code.TotalFiles);
        Assert.Equal(["huge.py"], code.FilesOverReadLimit);
        Assert.Equal(2, code.TotalLines);
        Assert.Equal(0, code.TodoCount);
        Assert.Equal([new FileLines("small.py", 2)], code.LargestFiles);
    }

    [Fact]
    public void Symbolic_links_are_not_followed()
    {
        using var outside = new TempProject("outside").Write("secret.py", "x = 1\n");
        using var project = new TempProject().Write("main.py", "print(1)\n");
        Directory.CreateSymbolicLink(project.FullPath("linked"), outside.Root);
        File.CreateSymbolicLink(project.FullPath("link.py"), outside.FullPath("secret.py"));

        var code = _scanner.Scan(project.Root).Project.CodeAnalysis;

        Assert.Equal(1, code.TotalFiles);
    }

    [Fact]
    public void Languages_come_from_manifests_when_no_code_is_written_yet()
    {
        using var project = new TempProject()
            .Write("main.py", "print(1)\nprint(2)\n")
            .Write("go.mod", "module example.com/x\n\ngo 1.22\n\nrequire (\n\tgithub.com/a/b v1.0.0\n\tgithub.com/c/d v1.2.0 // indirect\n)\nrequire github.com/e/f v0.1.0\n");

        var input = _scanner.Scan(project.Root).Project;

        Assert.Equal(["python", "go"], input.Languages);
        Assert.Equal([new DependencyManifest("go.mod", "go", 3, null)], input.CodeAnalysis.DependencyManifests);
    }

    [Fact]
    public void Only_yaml_with_api_version_and_kind_counts_as_kubernetes()
    {
        using var project = new TempProject()
            .Write("deploy/service.yml", "# service\napiVersion: v1\nkind: Service\n")
            .Write("deploy/values.yaml", "image: web\n")
            .Write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\n")
            .Write("charts/web/templates/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n");

        var deployment = _scanner.Scan(project.Root).Project.DeploymentAnalysis;

        Assert.Equal(["charts/web/templates/deployment.yaml", "deploy/service.yml"], deployment.KubernetesManifests);
        Assert.Equal(["charts/web/Chart.yaml"], deployment.HelmCharts);
        Assert.True(deployment.Readiness.HasRunTarget);
        Assert.Equal("minimal", deployment.Readiness.Level);
    }

    [Fact]
    public void The_readme_excerpt_is_the_beginning_of_the_readme_the_scan_read()
    {
        using var short_ = new TempProject().Write("README.md", "# Shop\nSells things.\n").Write("docs/README.md", "not this one");
        using var long_ = new TempProject().Write("README.rst", new string('x', ProjectScanner.ReadmeExcerptCharacters + 50));
        using var none = new TempProject().Write("main.py", "print(1)\n");

        Assert.Equal("# Shop\nSells things.\n", _scanner.Scan(short_.Root).ReadmeExcerpt);
        Assert.Equal(new string('x', ProjectScanner.ReadmeExcerptCharacters), _scanner.Scan(long_.Root).ReadmeExcerpt);
        Assert.Equal("(no README)", _scanner.Scan(none.Root).ReadmeExcerpt);
    }

    [Fact]
    public void A_named_pipe_is_counted_without_being_opened()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }
        using var project = new TempProject().Write("main.py", "print(1)\n");
        using (var mkfifo = Process.Start("mkfifo", [project.FullPath("pipe")]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // Opening the pipe would block this scan until a writer came; the test would hang rather than fail.
        var code = _scanner.Scan(project.Root).Project.CodeAnalysis;

        Assert.Equal(2, code.TotalFiles);
        Assert.Equal(1, code.TotalLines);
    }

    [Fact]
    public void Generic_entry_names_count_only_near_the_top()
    {
        using var project = new TempProject()
            .Write("src/index.ts", "export {};\n")
            .Write("src/components/button/index.ts", "export {};\n")
            .Write("cmd/tool/main.go", "package main\n")
            .Write("tests/main.py", "");

        Assert.Equal(["cmd/tool/main.go", "src/index.ts"], _scanner.Scan(project.Root).Project.CodeAnalysis.EntryPoints);
    }

    [Fact]
    public void A_readme_too_large_to_read_has_no_line_or_word_count()
    {
        using var project = new TempProject().Write("README.md", "# Big\n" + new string('x', 200));
        var scanner = new ProjectScanner(new ProjectScannerOptions { MaxBytesReadPerFile = 100 });

        var readme = scanner.Scan(project.Root).Project.DocAnalysis.Readme;

        Assert.NotNull(readme);
        Assert.Equal(206, readme.Bytes);
        Assert.Null(readme.Lines);
        Assert.Null(readme.Words);
        Assert.Empty(readme.Sections);
    }

    [Fact]
    public void A_cancelled_scan_stops()
    {
        using var project = TempProject.Python();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => _scanner.Scan(project.Root, cancellation.Token));
    }

    [Fact]
    public void An_empty_folder_scans_to_zeros()
    {
        using var project = new TempProject("empty");

        var input = _scanner.Scan(project.Root).Project;

        Assert.Empty(input.Languages);
        Assert.Equal(0, input.CodeAnalysis.TotalFiles);
        Assert.False(input.CodeAnalysis.Tests.Present);
        Assert.Equal("none", input.DeploymentAnalysis.Readiness.Level);
        Assert.Equal(["dockerfile", "ci", "run_target", "env_example"], input.DeploymentAnalysis.Readiness.Missing);
        Assert.False(input.DocAnalysis.HasReadme);
    }

    [Fact]
    public void Limits_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProjectScanner(new ProjectScannerOptions { MaxBytesReadPerFile = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProjectScanner(new ProjectScannerOptions { LargestFileCount = -1 }));
    }

    [Fact]
    public void A_trailing_separator_does_not_change_the_name_or_path()
    {
        using var project = TempProject.Python();

        var input = _scanner.Scan(project.Root + Path.DirectorySeparatorChar).Project;

        Assert.Equal("pyapp", input.Name);
        Assert.Equal(project.Root, input.Path);
    }

    [Fact]
    public void Missing_folder_is_reported()
    {
        Assert.Throws<DirectoryNotFoundException>(() => _scanner.Scan(Path.Combine(Path.GetTempPath(), "baton-no-such-" + Guid.NewGuid().ToString("N"))));
    }
}
