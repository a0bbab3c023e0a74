using Baton.Analysis;

namespace Baton.Core.Tests.Analysis;

public sealed class FindProjectsTests
{
    [Fact]
    public void Lists_visible_project_folders_in_ordinal_order()
    {
        using var parent = new TempProject("workspace")
            .Write(".gitignore", "ignored/\n")
            .Write("zeta/package.json", "{}")
            .Write("Alpha/README.md", "# Alpha\n")
            .Write("gamma/.git/HEAD", "ref: refs/heads/main\n")
            .Write("delta/src/main.rs", "fn main() {}\n")
            .Write("epsilon/Epsilon.slnx", "<Solution />\n")
            .Write(".hidden/package.json", "{}")
            .Write("node_modules/left-pad/package.json", "{}")
            .Write("ignored/package.json", "{}")
            .Write("notes/todo.txt", "just notes\n")
            .Write("loose-file.py", "print(1)\n");

        var projects = ProjectScanner.FindProjects(parent.Root);

        Assert.Equal(
            new[] { "Alpha", "delta", "epsilon", "gamma", "zeta" }.Select(name => Path.Combine(parent.Root, name)),
            projects);
    }

    [Fact]
    public void Symbolic_links_to_projects_are_not_listed()
    {
        using var elsewhere = new TempProject("elsewhere").Write("package.json", "{}");
        using var parent = new TempProject("workspace").Write("real/package.json", "{}");
        Directory.CreateSymbolicLink(Path.Combine(parent.Root, "linked"), elsewhere.Root);

        Assert.Equal([Path.Combine(parent.Root, "real")], ProjectScanner.FindProjects(parent.Root));
    }

    [Fact]
    public void Every_listed_folder_scans()
    {
        using var parent = new TempProject("workspace");
        using (var python = TempProject.Python())
        {
            CopyInto(python.Root, Path.Combine(parent.Root, "pyapp"));
        }

        var scans = ProjectScanner.FindProjects(parent.Root).Select(path => new ProjectScanner().Scan(path)).ToList();

        var scan = Assert.Single(scans);
        Assert.Equal("pyapp", scan.Project.Name);
        Assert.Equal(10, scan.Project.CodeAnalysis.TotalFiles);
    }

    private static void CopyInto(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
