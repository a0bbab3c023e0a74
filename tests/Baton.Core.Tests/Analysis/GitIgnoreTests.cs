using Baton.Analysis;

namespace Baton.Core.Tests.Analysis;

public sealed class GitIgnoreTests
{
    private static List<string> ListedFiles(TempProject project) =>
        ProjectFileWalker.ListFiles(project.Root, CancellationToken.None).Select(file => file.RelativePath).ToList();

    [Fact]
    public void Root_and_nested_gitignore_files_apply_with_git_semantics()
    {
        using var project = new TempProject()
            .Write(".gitignore", "# build output\n*.log\n!keep.log\n/secret.txt\nbuild/\n**/cache/**\ndocs/*.tmp\n")
            .Write("a.log", "")
            .Write("keep.log", "")
            .Write("secret.txt", "")
            .Write("sub/secret.txt", "")
            .Write("build/out.js", "")
            .Write("sub/build/out.js", "")
            .Write("other/build", "a file, not a directory")
            .Write("lib/cache/x.py", "")
            .Write("docs/a.tmp", "")
            .Write("docs/deep/a.tmp", "")
            .Write("x.tmp", "")
            .Write("sub/.gitignore", "*.tmp\n!wanted.log\n/only-here.txt\n")
            .Write("sub/x.tmp", "")
            .Write("sub/wanted.log", "")
            .Write("sub/other.log", "")
            .Write("sub/only-here.txt", "")
            .Write("sub/deeper/only-here.txt", "");

        Assert.Equal(
            [".gitignore", "docs/deep/a.tmp", "keep.log", "other/build", "sub/.gitignore", "sub/deeper/only-here.txt", "sub/secret.txt", "sub/wanted.log", "x.tmp"],
            ListedFiles(project));
    }

    [Fact]
    public void A_file_inside_an_ignored_folder_cannot_be_re_included()
    {
        using var project = new TempProject()
            .Write(".gitignore", "generated/\n!generated/keep.py\n")
            .Write("generated/keep.py", "")
            .Write("main.py", "");

        Assert.Equal([".gitignore", "main.py"], ListedFiles(project));
    }

    [Fact]
    public void Dependency_and_build_folders_are_skipped_even_without_a_gitignore()
    {
        using var project = new TempProject()
            .Write("main.py", "")
            .Write("node_modules/left-pad/index.js", "")
            .Write("web/node_modules/x/index.js", "")
            .Write("src/App/bin/Debug/App.dll", "")
            .Write("src/App/obj/project.assets.json", "")
            .Write(".git/config", "")
            .Write(".venv/lib/site.py", "")
            .Write("pkg/__pycache__/m.pyc", "")
            .Write("target/debug/app", "")
            .Write("dist/bundle.js", "")
            .Write(".github/workflows/ci.yml", "")
            .Write("vendored/.git", "gitdir: /somewhere/else\n");

        Assert.Equal([".github/workflows/ci.yml", "main.py"], ListedFiles(project));
    }

    [Fact]
    public void Patterns_with_a_middle_slash_are_anchored_and_double_stars_cross_folders()
    {
        using var project = new TempProject()
            .Write(".gitignore", "config/local.json\nassets/**/raw\n*.min.js\n")
            .Write("config/local.json", "")
            .Write("app/config/local.json", "")
            .Write("assets/raw/a.bin", "")
            .Write("assets/img/2024/raw/b.bin", "")
            .Write("assets/img/cooked.bin", "")
            .Write("web/lib/site.min.js", "")
            .Write("web/lib/site.js", "");

        Assert.Equal(
            [".gitignore", "app/config/local.json", "assets/img/cooked.bin", "web/lib/site.js"],
            ListedFiles(project));
    }

    [Fact]
    public void A_name_without_a_slash_matches_at_any_depth_and_comments_and_escapes_are_honoured()
    {
        using var project = new TempProject()
            .Write(".gitignore", "logs\n# not-a-comment.txt\n\\#hash.txt\n[unclosed\n")
            .Write("logs/a.txt", "")
            .Write("api/logs/b.txt", "")
            .Write("# not-a-comment.txt", "")
            .Write("#hash.txt", "")
            .Write("main.py", "");

        Assert.Equal(["# not-a-comment.txt", ".gitignore", "main.py"], ListedFiles(project));
    }

    [Fact]
    public void The_repository_exclude_list_applies_below_the_root_gitignore()
    {
        using var project = new TempProject()
            .Write(".git/info/exclude", "*.local\nscratch/\n")
            .Write(".gitignore", "!keep.local\n")
            .Write("settings.local", "")
            .Write("keep.local", "")
            .Write("scratch/notes.md", "")
            .Write("main.py", "");

        Assert.Equal([".gitignore", "keep.local", "main.py"], ListedFiles(project));
    }

    [Fact]
    public void Files_are_listed_in_ordinal_path_order()
    {
        using var project = new TempProject()
            .Write("a-b.txt", "")
            .Write("a/b.txt", "")
            .Write("B.txt", "")
            .Write("a.txt", "");

        Assert.Equal(["B.txt", "a-b.txt", "a.txt", "a/b.txt"], ListedFiles(project));
    }
}
