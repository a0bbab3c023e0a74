namespace Baton.Accounting.Catalog;

/// <summary>Loads the catalog named by <c>prices.catalogPath</c>, turning every way it can fail into one sentence.</summary>
public static class PriceCatalogFile
{
    /// <returns>Null when loaded; otherwise what is wrong with the file.</returns>
    public static string? TryLoad(string path, out PriceCatalog? catalog)
    {
        catalog = null;
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            return $"the file '{path}' does not exist.";
        }
        try
        {
            catalog = PriceCatalog.LoadFile(full);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            return $"'{path}' could not be read as genai-prices data: {ex.Message}";
        }
    }
}
