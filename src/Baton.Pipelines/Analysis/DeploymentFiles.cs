namespace Baton.Analysis;

/// <summary>The kinds of deployment file a scan recognises.</summary>
internal enum DeploymentFileKind
{
    None,
    Dockerfile,
    Compose,
    Ci,
    HelmChart,
    EnvExample,
    Hosting,
    InfrastructureAsCode,
    /// <summary>A YAML file that might be a Kubernetes manifest; its content decides.</summary>
    MaybeKubernetes,
}

/// <summary>Recognises deployment files by path (and Kubernetes manifests by their <c>apiVersion</c> and <c>kind</c> keys).</summary>
internal static class DeploymentFiles
{
    private static readonly Dictionary<string, string> HostingPlatformByName = new(StringComparer.Ordinal)
    {
        ["vercel.json"] = "vercel", ["now.json"] = "vercel", ["netlify.toml"] = "netlify", ["fly.toml"] = "fly",
        ["Procfile"] = "heroku", ["heroku.yml"] = "heroku", ["app.json"] = "heroku", ["app.yaml"] = "google_app_engine",
        ["app.yml"] = "google_app_engine", ["render.yaml"] = "render", ["railway.json"] = "railway", ["railway.toml"] = "railway",
        ["serverless.yml"] = "serverless", ["serverless.yaml"] = "serverless", ["amplify.yml"] = "aws_amplify",
        ["firebase.json"] = "firebase", ["wrangler.toml"] = "cloudflare_workers", ["appspec.yml"] = "aws_codedeploy",
        ["nixpacks.toml"] = "nixpacks", ["azure.yaml"] = "azure_developer_cli", ["Dockerrun.aws.json"] = "aws_elastic_beanstalk",
    };

    public static DeploymentFileKind KindOf(string relativePath)
    {
        var name = FileClassifier.FileName(relativePath);
        var extension = Path.GetExtension(name);
        if (name is "Dockerfile" or "Containerfile" || name.StartsWith("Dockerfile.", StringComparison.Ordinal)
            || extension.Equals(".dockerfile", StringComparison.OrdinalIgnoreCase))
        {
            return DeploymentFileKind.Dockerfile;
        }
        if ((name.StartsWith("docker-compose", StringComparison.Ordinal) || name.StartsWith("compose.", StringComparison.Ordinal))
            && extension is ".yml" or ".yaml")
        {
            return DeploymentFileKind.Compose;
        }
        if (CiSystemOf(relativePath) is not null)
        {
            return DeploymentFileKind.Ci;
        }
        if (name is "Chart.yaml")
        {
            return DeploymentFileKind.HelmChart;
        }
        if (name is ".env.example" or ".env.sample" or ".env.template" or ".env.dist" or "example.env" or "sample.env")
        {
            return DeploymentFileKind.EnvExample;
        }
        if (HostingPlatformByName.ContainsKey(name))
        {
            return DeploymentFileKind.Hosting;
        }
        if (extension is ".tf" or ".bicep" || name is "Pulumi.yaml" or "cdk.json" || relativePath.StartsWith("ansible/", StringComparison.Ordinal))
        {
            return DeploymentFileKind.InfrastructureAsCode;
        }
        return extension is ".yml" or ".yaml" ? DeploymentFileKind.MaybeKubernetes : DeploymentFileKind.None;
    }

    /// <summary>The CI system that runs a file, or null when it is not a CI definition.</summary>
    public static string? CiSystemOf(string relativePath)
    {
        var name = FileClassifier.FileName(relativePath);
        var extension = Path.GetExtension(name);
        if (relativePath.StartsWith(".github/workflows/", StringComparison.Ordinal) && extension is ".yml" or ".yaml")
        {
            return "github_actions";
        }
        return relativePath switch
        {
            ".gitlab-ci.yml" => "gitlab_ci",
            "Jenkinsfile" => "jenkins",
            "azure-pipelines.yml" or "azure-pipelines.yaml" => "azure_pipelines",
            "bitbucket-pipelines.yml" => "bitbucket_pipelines",
            ".travis.yml" => "travis_ci",
            _ when relativePath.StartsWith(".circleci/", StringComparison.Ordinal) && extension is ".yml" or ".yaml" => "circleci",
            _ => null,
        };
    }

    public static string HostingPlatformOf(string relativePath) =>
        HostingPlatformByName[FileClassifier.FileName(relativePath)];

    /// <summary>Whether YAML text has top-level <c>apiVersion:</c> and <c>kind:</c> keys in one document.</summary>
    public static bool LooksLikeKubernetesManifest(string text)
    {
        var hasApiVersion = false;
        var hasKind = false;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.StartsWith("---", StringComparison.Ordinal))
            {
                hasApiVersion = hasKind = false;
                continue;
            }
            hasApiVersion |= line.StartsWith("apiVersion:", StringComparison.Ordinal);
            hasKind |= line.StartsWith("kind:", StringComparison.Ordinal);
            if (hasApiVersion && hasKind)
            {
                return true;
            }
        }
        return false;
    }
}
