using System.Text.Json.Serialization;

namespace Baton.Analysis;

/// <summary>
/// The result of scanning one project: the pipeline's input (seed 000's <c>project</c>, and the README's
/// beginning for the roles that judge what the project is for) and the fingerprints a cache keys on.
/// </summary>
public sealed record ProjectScan(
    [property: JsonPropertyName("project")] ProjectInput Project,
    [property: JsonPropertyName("fingerprints")] ProjectFingerprints Fingerprints,
    [property: JsonPropertyName("readme_excerpt")] string ReadmeExcerpt);

/// <summary>
/// Lowercase hex SHA-256 fingerprints over (relative path, content) of the scanned files in ordinal path order.
/// <see cref="All"/> covers every file; <see cref="Code"/> source files and dependency manifests;
/// <see cref="Deployment"/> deployment files and manifests; <see cref="Docs"/> README, docs, licence, changelog and
/// other prose. A change that leaves an area's files alone leaves its fingerprint alone, so role results keyed on it
/// stay fresh. The project's absolute path never enters a fingerprint: a moved copy hashes the same.
/// </summary>
public sealed record ProjectFingerprints(
    [property: JsonPropertyName("all")] string All,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("deployment")] string Deployment,
    [property: JsonPropertyName("docs")] string Docs);
