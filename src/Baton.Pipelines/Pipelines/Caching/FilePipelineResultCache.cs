using System.Text.Json;

namespace Baton.Pipelines.Caching;

/// <summary>
/// Step results as one JSON file per key in a folder, so they outlive the process (a second <c>baton analyze</c>
/// of an unchanged project makes no call). Each file is written whole to a temporary name and then renamed,
/// so a run stopped half-way never leaves a half-written result; an unreadable file is a miss, not an error.
/// </summary>
public sealed class FilePipelineResultCache(string directory) : IPipelineResultCache
{
    public string Directory { get; } = Path.GetFullPath(directory);

    public async Task<CachedStepResult?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            await using var stream = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<CachedStepResult>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Stores a result. Best effort: a folder that cannot be written (read-only, full, a file in its place) only
    /// costs the next run its cache hit, never the answer already paid for.
    /// </summary>
    public async Task SetAsync(string key, CachedStepResult result, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            await using (var stream = File.Create(temporary))
            {
                await JsonSerializer.SerializeAsync(stream, result, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temporary);
            if (ex is OperationCanceledException)
            {
                throw;
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: a stray temporary file is never read as a result.
        }
    }

    private string PathOf(string key)
    {
        if (key.Length == 0 || !key.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException("A cache key is a hexadecimal hash.", nameof(key));
        }
        return Path.Combine(Directory, key + ".json");
    }
}
