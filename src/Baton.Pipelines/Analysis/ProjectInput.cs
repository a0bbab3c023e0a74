using System.Text.Json.Serialization;

namespace Baton.Analysis;

/// <summary>
/// The facts about one project that the analysis pipeline hands to its models: the <c>project</c> object of the
/// pipeline's input. Every figure is computed from the files that were scanned; nothing is estimated.
/// </summary>
/// <param name="Name">The project folder's name.</param>
/// <param name="Path">The project folder's full path, as scanned.</param>
/// <param name="Languages">Ecosystems found in the source files (<c>python</c>, <c>nodejs</c>, <c>csharp</c>, ...), most lines first, then those only a dependency manifest names.</param>
/// <param name="CodeAnalysis">Sizes, tests, dependencies and markers of the source code.</param>
/// <param name="DeploymentAnalysis">Containers, CI, run targets and environment examples.</param>
/// <param name="DocAnalysis">README, docs folder, licence, changelog and contributing guide.</param>
public sealed record ProjectInput(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("languages")] IReadOnlyList<string> Languages,
    [property: JsonPropertyName("code_analysis")] CodeAnalysis CodeAnalysis,
    [property: JsonPropertyName("deployment_analysis")] DeploymentAnalysis DeploymentAnalysis,
    [property: JsonPropertyName("doc_analysis")] DocAnalysis DocAnalysis);

/// <summary>What the source files say: sizes per language, tests, dependency manifests and markers left in the code.</summary>
/// <param name="TotalFiles">Every scanned file, whatever its kind (binary files included).</param>
/// <param name="TotalLines">Lines in the source files.</param>
/// <param name="SourceFiles">Files in a recognised programming language.</param>
/// <param name="BinaryFiles">Files with a NUL byte in their first 8 KB; counted, never line-counted.</param>
/// <param name="FilesOverReadLimit">Files larger than the read limit: counted, not line-counted, hashed up to the limit.</param>
/// <param name="Languages">Files and lines per language, most lines first.</param>
/// <param name="LargestFiles">The source files with the most lines, most first.</param>
/// <param name="Tests">Test files and folders found by each ecosystem's conventions.</param>
/// <param name="DependencyManifests">Manifests found, in path order, with their dependency counts.</param>
/// <param name="TodoCount">Occurrences of <c>TODO</c> in source files.</param>
/// <param name="FixmeCount">Occurrences of <c>FIXME</c> in source files.</param>
/// <param name="HackCount">Occurrences of <c>HACK</c> in source files.</param>
/// <param name="EntryPoints">Files that conventionally start a program (<c>main.py</c>, <c>Program.cs</c>, a package's <c>main</c>, ...).</param>
public sealed record CodeAnalysis(
    [property: JsonPropertyName("total_files")] int TotalFiles,
    [property: JsonPropertyName("total_lines")] long TotalLines,
    [property: JsonPropertyName("source_files")] int SourceFiles,
    [property: JsonPropertyName("binary_files")] int BinaryFiles,
    [property: JsonPropertyName("files_over_read_limit")] IReadOnlyList<string> FilesOverReadLimit,
    [property: JsonPropertyName("languages")] IReadOnlyList<LanguageStatistics> Languages,
    [property: JsonPropertyName("largest_files")] IReadOnlyList<FileLines> LargestFiles,
    [property: JsonPropertyName("tests")] TestSummary Tests,
    [property: JsonPropertyName("dependency_manifests")] IReadOnlyList<DependencyManifest> DependencyManifests,
    [property: JsonPropertyName("todo_count")] int TodoCount,
    [property: JsonPropertyName("fixme_count")] int FixmeCount,
    [property: JsonPropertyName("hack_count")] int HackCount,
    [property: JsonPropertyName("entry_points")] IReadOnlyList<string> EntryPoints);

/// <summary>Files and lines of one language (<c>python</c>, <c>typescript</c>, <c>csharp</c>, ...).</summary>
public sealed record LanguageStatistics(
    [property: JsonPropertyName("language")] string Language,
    [property: JsonPropertyName("files")] int Files,
    [property: JsonPropertyName("lines")] long Lines);

/// <summary>A file's path relative to the project (with <c>/</c> separators) and its line count.</summary>
public sealed record FileLines(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("lines")] long Lines);

/// <summary>Whether the project has tests, how many test source files and in which folders.</summary>
public sealed record TestSummary(
    [property: JsonPropertyName("present")] bool Present,
    [property: JsonPropertyName("test_file_count")] int TestFileCount,
    [property: JsonPropertyName("test_folders")] IReadOnlyList<string> TestFolders);

/// <summary>A dependency manifest; the counts are null where the format is not cheaply countable.</summary>
/// <param name="Path">Relative path.</param>
/// <param name="Ecosystem">The ecosystem it belongs to (<c>nodejs</c>, <c>python</c>, <c>csharp</c>, ...).</param>
/// <param name="Dependencies">Runtime dependencies declared, or null when not counted.</param>
/// <param name="DevDependencies">Development-only dependencies declared, or null when the format has none or they were not counted.</param>
public sealed record DependencyManifest(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("ecosystem")] string Ecosystem,
    [property: JsonPropertyName("dependencies")] int? Dependencies,
    [property: JsonPropertyName("dev_dependencies")] int? DevDependencies);

/// <summary>What the project ships with to be built and run somewhere, and a readiness summary derived from it.</summary>
public sealed record DeploymentAnalysis(
    [property: JsonPropertyName("dockerfiles")] IReadOnlyList<string> Dockerfiles,
    [property: JsonPropertyName("compose_files")] IReadOnlyList<string> ComposeFiles,
    [property: JsonPropertyName("ci_workflows")] IReadOnlyList<CiWorkflow> CiWorkflows,
    [property: JsonPropertyName("kubernetes_manifests")] IReadOnlyList<string> KubernetesManifests,
    [property: JsonPropertyName("helm_charts")] IReadOnlyList<string> HelmCharts,
    [property: JsonPropertyName("env_examples")] IReadOnlyList<string> EnvExamples,
    [property: JsonPropertyName("hosting_configs")] IReadOnlyList<HostingConfig> HostingConfigs,
    [property: JsonPropertyName("infrastructure_as_code")] IReadOnlyList<string> InfrastructureAsCode,
    [property: JsonPropertyName("readiness")] DeploymentReadiness Readiness);

/// <summary>A CI definition and the system that runs it (<c>github_actions</c>, <c>gitlab_ci</c>, <c>jenkins</c>, ...).</summary>
public sealed record CiWorkflow(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("system")] string System);

/// <summary>A hosting platform's configuration file and the platform (<c>vercel</c>, <c>fly</c>, <c>heroku</c>, ...).</summary>
public sealed record HostingConfig(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("platform")] string Platform);

/// <summary>
/// A plain summary of the deployment facts. <see cref="Level"/> counts the four signals present
/// (container, CI, a place to run it, an environment example): 0 <c>none</c>, 1 <c>minimal</c>, 2–3 <c>partial</c>, 4 <c>ready</c>.
/// </summary>
public sealed record DeploymentReadiness(
    [property: JsonPropertyName("containerized")] bool Containerized,
    [property: JsonPropertyName("has_ci")] bool HasCi,
    [property: JsonPropertyName("has_run_target")] bool HasRunTarget,
    [property: JsonPropertyName("has_env_example")] bool HasEnvExample,
    [property: JsonPropertyName("level")] string Level,
    [property: JsonPropertyName("missing")] IReadOnlyList<string> Missing);

/// <summary>The project's documentation: README, docs folder, licence, changelog and contributing guide.</summary>
public sealed record DocAnalysis(
    [property: JsonPropertyName("has_readme")] bool HasReadme,
    [property: JsonPropertyName("readme")] ReadmeSummary? Readme,
    [property: JsonPropertyName("has_docs_folder")] bool HasDocsFolder,
    [property: JsonPropertyName("docs_folders")] IReadOnlyList<string> DocsFolders,
    [property: JsonPropertyName("doc_file_count")] int DocFileCount,
    [property: JsonPropertyName("has_license")] bool HasLicense,
    [property: JsonPropertyName("license")] LicenseSummary? License,
    [property: JsonPropertyName("has_changelog")] bool HasChangelog,
    [property: JsonPropertyName("has_contributing")] bool HasContributing);

/// <summary>
/// The root README's size and its markdown section headings in order. Lines and words are null, and no sections are
/// listed, when the README was too large to read in full.
/// </summary>
public sealed record ReadmeSummary(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("lines")] long? Lines,
    [property: JsonPropertyName("words")] int? Words,
    [property: JsonPropertyName("sections")] IReadOnlyList<ReadmeSection> Sections);

/// <summary>A markdown heading: its level (1 for <c>#</c>) and text.</summary>
public sealed record ReadmeSection(
    [property: JsonPropertyName("level")] int Level,
    [property: JsonPropertyName("title")] string Title);

/// <summary>The licence file and its kind as an SPDX id (<c>MIT</c>, <c>Apache-2.0</c>, ...), or null when not recognised.</summary>
public sealed record LicenseSummary(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("kind")] string? Kind);
