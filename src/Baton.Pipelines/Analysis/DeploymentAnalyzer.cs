namespace Baton.Analysis;

/// <summary>Builds <see cref="DeploymentAnalysis"/> from the scanned files.</summary>
internal static class DeploymentAnalyzer
{
    /// <summary>Whether a scanned file is a deployment file (for the deployment fingerprint).</summary>
    public static bool IsDeploymentFile(ScannedFile file)
    {
        var kind = DeploymentFiles.KindOf(file.RelativePath);
        return kind switch
        {
            DeploymentFileKind.None => false,
            DeploymentFileKind.MaybeKubernetes => file.IsKubernetesManifest,
            _ => true,
        };
    }

    public static DeploymentAnalysis Build(IReadOnlyList<ScannedFile> files)
    {
        var byKind = files
            .Where(IsDeploymentFile)
            .ToLookup(file => DeploymentFiles.KindOf(file.RelativePath), file => file.RelativePath);

        var dockerfiles = byKind[DeploymentFileKind.Dockerfile].ToList();
        var compose = byKind[DeploymentFileKind.Compose].ToList();
        var ci = byKind[DeploymentFileKind.Ci].Select(path => new CiWorkflow(path, DeploymentFiles.CiSystemOf(path)!)).ToList();
        var kubernetes = byKind[DeploymentFileKind.MaybeKubernetes].ToList();
        var helmCharts = byKind[DeploymentFileKind.HelmChart].ToList();
        var envExamples = byKind[DeploymentFileKind.EnvExample].ToList();
        var hosting = byKind[DeploymentFileKind.Hosting].Select(path => new HostingConfig(path, DeploymentFiles.HostingPlatformOf(path))).ToList();
        var infrastructure = byKind[DeploymentFileKind.InfrastructureAsCode].ToList();

        var containerized = dockerfiles.Count > 0;
        var hasCi = ci.Count > 0;
        var hasRunTarget = compose.Count > 0 || kubernetes.Count > 0 || helmCharts.Count > 0 || hosting.Count > 0 || infrastructure.Count > 0;
        var hasEnvExample = envExamples.Count > 0;

        var missing = new List<string>();
        if (!containerized)
        {
            missing.Add("dockerfile");
        }
        if (!hasCi)
        {
            missing.Add("ci");
        }
        if (!hasRunTarget)
        {
            missing.Add("run_target");
        }
        if (!hasEnvExample)
        {
            missing.Add("env_example");
        }
        var level = (4 - missing.Count) switch
        {
            0 => "none",
            1 => "minimal",
            4 => "ready",
            _ => "partial",
        };

        return new DeploymentAnalysis(
            dockerfiles, compose, ci, kubernetes, helmCharts, envExamples, hosting, infrastructure,
            new DeploymentReadiness(containerized, hasCi, hasRunTarget, hasEnvExample, level, missing));
    }
}
