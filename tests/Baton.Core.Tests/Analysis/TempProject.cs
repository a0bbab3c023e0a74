namespace Baton.Core.Tests.Analysis;

/// <summary>A real project folder under the temp directory, deleted when the test ends.</summary>
internal sealed class TempProject : IDisposable
{
    public TempProject(string name = "demo")
    {
        Root = Path.Combine(Path.GetTempPath(), "baton-scan-" + Guid.NewGuid().ToString("N"), name);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public TempProject Write(string relativePath, string content)
    {
        var path = FullPath(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public TempProject WriteBytes(string relativePath, byte[] content)
    {
        var path = FullPath(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return this;
    }

    public string FullPath(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Copies the project to a new folder, every file with a different timestamp.</summary>
    public TempProject CopyTo(string name)
    {
        var copy = new TempProject(name);
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Root, Path.GetRelativePath(Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetLastWriteTimeUtc(target, new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        }
        return copy;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(Root)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public const string PythonReadme = "# Demo\n\nA demo project.\n\n## Install\n\n```bash\n# not a heading\npip install\n```\n\n## Usage\n";

    /// <summary>A small Python service: code, a test, requirements, a Dockerfile, CI, README and an MIT licence.</summary>
    public static TempProject Python(string name = "pyapp") => new TempProject(name)
        .Write("app/__init__.py", "")
        .Write("app/main.py", "import os\n# TODO: read config\ndef main():\n    pass  # FIXME later\n")
        .Write("app/util.py", "def add(a, b):\n    return a + b\n")
        .Write("tests/test_main.py", "from app.main import main\n\ndef test_main():\n    main()\n")
        .Write("requirements.txt", "flask==3.0.0\n# a comment\nrequests>=2\n\n-r dev.txt\n")
        .Write("Dockerfile", "FROM python:3.12-slim\nCOPY . /app\n")
        .Write(".github/workflows/ci.yml", "name: ci\non: push\njobs: {}\n")
        .Write("README.md", PythonReadme)
        .Write("LICENSE", "MIT License\n\nCopyright (c) 2026 Demo\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software.\n")
        .Write(".env.example", "PORT=8000\n");
}
