namespace Baton.Providers;

/// <summary>
/// Knows every provider key in use and removes them from any text before it is logged, returned or
/// stored, so that an upstream echoing a key back (some do, in auth errors) cannot leak it.
/// </summary>
public sealed class SecretRedactor
{
    private const string Mask = "[redacted]";
    private readonly List<string> _secrets = [];
    private readonly Lock _gate = new();

    public void Add(string? secret)
    {
        // Very short values would mask ordinary words; real keys are long.
        if (string.IsNullOrEmpty(secret) || secret.Length < 8)
        {
            return;
        }
        lock (_gate)
        {
            if (!_secrets.Contains(secret))
            {
                _secrets.Add(secret);
            }
        }
    }

    public string Redact(string text)
    {
        lock (_gate)
        {
            foreach (var secret in _secrets)
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }
        return text;
    }
}
