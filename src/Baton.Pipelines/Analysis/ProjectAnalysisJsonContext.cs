using System.Text.Json.Serialization;

namespace Baton.Analysis;

/// <summary>Source-generated JSON metadata for the scan types, so serialising them needs no reflection.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ProjectScan))]
[JsonSerializable(typeof(ProjectInput))]
[JsonSerializable(typeof(ProjectFingerprints))]
public sealed partial class ProjectAnalysisJsonContext : JsonSerializerContext;
