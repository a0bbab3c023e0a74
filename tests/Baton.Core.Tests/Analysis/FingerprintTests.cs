using Baton.Analysis;

namespace Baton.Core.Tests.Analysis;

public sealed class FingerprintTests
{
    private readonly ProjectScanner _scanner = new();

    [Fact]
    public void Two_scans_of_the_same_files_give_the_same_fingerprints()
    {
        using var project = TempProject.Python();

        var first = _scanner.Scan(project.Root).Fingerprints;
        var second = _scanner.Scan(project.Root).Fingerprints;

        Assert.Equal(first, second);
        Assert.Matches("^[0-9a-f]{64}$", first.All);
        Assert.Matches("^[0-9a-f]{64}$", first.Code);
        Assert.Matches("^[0-9a-f]{64}$", first.Deployment);
        Assert.Matches("^[0-9a-f]{64}$", first.Docs);
        Assert.Equal(4, new[] { first.All, first.Code, first.Deployment, first.Docs }.Distinct().Count());
    }

    [Fact]
    public void A_copy_elsewhere_with_other_timestamps_hashes_the_same()
    {
        using var project = TempProject.Python();
        using var copy = project.CopyTo("moved-elsewhere");

        Assert.Equal(_scanner.Scan(project.Root).Fingerprints, _scanner.Scan(copy.Root).Fingerprints);
    }

    [Fact]
    public void A_source_change_changes_code_but_not_docs_or_deployment()
    {
        using var project = TempProject.Python();
        var before = _scanner.Scan(project.Root).Fingerprints;

        project.Write("app/util.py", "def add(a, b):\n    return b + a\n");
        var after = _scanner.Scan(project.Root).Fingerprints;

        Assert.NotEqual(before.All, after.All);
        Assert.NotEqual(before.Code, after.Code);
        Assert.Equal(before.Docs, after.Docs);
        Assert.Equal(before.Deployment, after.Deployment);
    }

    [Fact]
    public void A_readme_change_changes_docs_but_not_code_or_deployment()
    {
        using var project = TempProject.Python();
        var before = _scanner.Scan(project.Root).Fingerprints;

        project.Write("README.md", TempProject.PythonReadme + "\n## Licence\n");
        var after = _scanner.Scan(project.Root).Fingerprints;

        Assert.NotEqual(before.All, after.All);
        Assert.NotEqual(before.Docs, after.Docs);
        Assert.Equal(before.Code, after.Code);
        Assert.Equal(before.Deployment, after.Deployment);
    }

    [Fact]
    public void A_dockerfile_change_changes_deployment_only_and_a_manifest_change_changes_code_and_deployment()
    {
        using var project = TempProject.Python();
        var before = _scanner.Scan(project.Root).Fingerprints;

        project.Write("Dockerfile", "FROM python:3.13-slim\nCOPY . /app\n");
        var afterDockerfile = _scanner.Scan(project.Root).Fingerprints;
        Assert.NotEqual(before.Deployment, afterDockerfile.Deployment);
        Assert.Equal(before.Code, afterDockerfile.Code);
        Assert.Equal(before.Docs, afterDockerfile.Docs);

        project.Write("requirements.txt", "flask==3.1.0\n");
        var afterManifest = _scanner.Scan(project.Root).Fingerprints;
        Assert.NotEqual(afterDockerfile.Code, afterManifest.Code);
        Assert.NotEqual(afterDockerfile.Deployment, afterManifest.Deployment);
        Assert.Equal(afterDockerfile.Docs, afterManifest.Docs);
    }

    [Fact]
    public void Renaming_a_file_changes_the_fingerprint_even_with_the_same_content()
    {
        using var project = TempProject.Python();
        var before = _scanner.Scan(project.Root).Fingerprints;

        File.Move(project.FullPath("app/util.py"), project.FullPath("app/utils.py"));
        var after = _scanner.Scan(project.Root).Fingerprints;

        Assert.NotEqual(before.Code, after.Code);
        Assert.NotEqual(before.All, after.All);
    }

    [Fact]
    public void Ignored_files_do_not_enter_the_fingerprints()
    {
        using var project = TempProject.Python().Write(".gitignore", "*.log\n");
        var before = _scanner.Scan(project.Root).Fingerprints;

        project.Write("debug.log", "noise");
        project.Write("node_modules/x/index.js", "noise");

        Assert.Equal(before, _scanner.Scan(project.Root).Fingerprints);
    }

    [Fact]
    public void A_file_over_the_read_limit_is_fingerprinted_by_its_size_and_first_bytes()
    {
        using var project = new TempProject().Write("data.py", new string('a', 1000));
        var scanner = new ProjectScanner(new ProjectScannerOptions { MaxBytesReadPerFile = 100 });
        var before = scanner.Scan(project.Root).Fingerprints;

        project.Write("data.py", "b" + new string('a', 999));
        var changedEarly = scanner.Scan(project.Root).Fingerprints;
        project.Write("data.py", "b" + new string('a', 998) + "z");
        var changedPastTheLimit = scanner.Scan(project.Root).Fingerprints;
        project.Write("data.py", "b" + new string('a', 1000));
        var grown = scanner.Scan(project.Root).Fingerprints;

        Assert.NotEqual(before.Code, changedEarly.Code);
        // Bytes past the limit are never read: a same-size change there goes unseen, by design.
        Assert.Equal(changedEarly.Code, changedPastTheLimit.Code);
        Assert.NotEqual(changedEarly.Code, grown.Code);
    }
}
