using System.Text.Json;
using Baton.Analysis;

namespace Baton.Core.Tests.Analysis;

public sealed class ProjectInputJsonTests
{
    [Fact]
    public void Serialises_to_the_pipeline_input_field_names()
    {
        using var project = TempProject.Python();
        var scan = new ProjectScanner().Scan(project.Root);

        var json = JsonSerializer.Serialize(scan.Project, ProjectAnalysisJsonContext.Default.ProjectInput);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.Equal(
            ["name", "path", "languages", "code_analysis", "deployment_analysis", "doc_analysis"],
            root.EnumerateObject().Select(property => property.Name));
        Assert.Equal("pyapp", root.GetProperty("name").GetString());
        Assert.Equal("python", root.GetProperty("languages")[0].GetString());

        var code = root.GetProperty("code_analysis");
        Assert.Equal(10, code.GetProperty("total_files").GetInt32());
        Assert.Equal(10, code.GetProperty("total_lines").GetInt64());
        Assert.Equal("python", code.GetProperty("languages")[0].GetProperty("language").GetString());
        Assert.Equal("app/main.py", code.GetProperty("largest_files")[0].GetProperty("path").GetString());
        Assert.Equal(1, code.GetProperty("tests").GetProperty("test_file_count").GetInt32());
        Assert.Equal(2, code.GetProperty("dependency_manifests")[0].GetProperty("dependencies").GetInt32());
        Assert.Equal(JsonValueKind.Null, code.GetProperty("dependency_manifests")[0].GetProperty("dev_dependencies").ValueKind);
        Assert.Equal(1, code.GetProperty("todo_count").GetInt32());

        var deployment = root.GetProperty("deployment_analysis");
        Assert.Equal("Dockerfile", deployment.GetProperty("dockerfiles")[0].GetString());
        Assert.Equal("github_actions", deployment.GetProperty("ci_workflows")[0].GetProperty("system").GetString());
        Assert.Equal("partial", deployment.GetProperty("readiness").GetProperty("level").GetString());

        var docs = root.GetProperty("doc_analysis");
        Assert.True(docs.GetProperty("has_readme").GetBoolean());
        Assert.Equal("Install", docs.GetProperty("readme").GetProperty("sections")[1].GetProperty("title").GetString());
        Assert.Equal("MIT", docs.GetProperty("license").GetProperty("kind").GetString());
    }

    [Fact]
    public void A_scan_round_trips()
    {
        using var project = TempProject.Python();
        var scan = new ProjectScanner().Scan(project.Root);

        var json = JsonSerializer.Serialize(scan, ProjectAnalysisJsonContext.Default.ProjectScan);
        var back = JsonSerializer.Deserialize(json, ProjectAnalysisJsonContext.Default.ProjectScan);

        Assert.NotNull(back);
        Assert.Equal(scan.Fingerprints, back.Fingerprints);
        Assert.Equal(json, JsonSerializer.Serialize(back, ProjectAnalysisJsonContext.Default.ProjectScan));
        Assert.Contains("\"fingerprints\"", json, StringComparison.Ordinal);
    }
}
