namespace Baton.Caching;

/// <summary>An in-process cache: a dictionary with a least-recently-used list, bounded by total size.</summary>
public sealed class MemoryCacheStore(long maxBytes, TimeProvider time) : ICacheStore, IHoldsAnswers
{
    private readonly Dictionary<string, LinkedListNode<CachedAnswer>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CachedAnswer> _recency = new();
    private readonly Lock _gate = new();
    private long _bytes;

    /// <inheritdoc />
    public ValueTask<CachedAnswer?> FindAsync(string key, CancellationToken cancellationToken = default) => ValueTask.FromResult(Find(key));

    /// <inheritdoc />
    public ValueTask SaveAsync(CachedAnswer answer, CancellationToken cancellationToken = default)
    {
        Save(answer);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<long> PurgeAsync(string? model = null, CancellationToken cancellationToken = default) => ValueTask.FromResult(Purge(model));

    /// <inheritdoc />
    public ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Size());

    /// <summary>The synchronous form of <see cref="FindAsync"/>.</summary>
    public CachedAnswer? Find(string key)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return null;
            }
            if (node.Value.Expires <= time.GetUtcNow())
            {
                Remove(node);
                return null;
            }
            MakeRecent(node);
            return node.Value;
        }
    }

    /// <inheritdoc />
    CachedAnswer? IHoldsAnswers.FindEquivalent(string key, string model, string deployment, ReadOnlySpan<byte> body, Providers.TokenUsage usage,
        DateTimeOffset now, DateTimeOffset expires) => FindEquivalent(key, model, deployment, body, usage, now, expires);

    /// <summary>The held answer that can stand for the one being saved (see <see cref="CachedAnswer.CanStandFor"/>), made the most recent.</summary>
    internal CachedAnswer? FindEquivalent(string key, string model, string deployment, ReadOnlySpan<byte> body, Providers.TokenUsage usage,
        DateTimeOffset now, DateTimeOffset expires)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node) || !node.Value.CanStandFor(model, deployment, body, usage, now, expires))
            {
                return null;
            }
            MakeRecent(node);
            return node.Value;
        }
    }

    /// <summary>The synchronous form of <see cref="SaveAsync"/>.</summary>
    public void Save(CachedAnswer answer)
    {
        if (answer.Size > maxBytes)
        {
            return;
        }
        lock (_gate)
        {
            if (_entries.TryGetValue(answer.Key, out var existing))
            {
                // The same key saved again (a refresh, or many no-cache requests): the node is reused, not reallocated.
                _bytes += answer.Size - existing.Value.Size;
                existing.Value = answer;
                MakeRecent(existing);
            }
            else
            {
                _entries[answer.Key] = _recency.AddFirst(answer);
                _bytes += answer.Size;
            }
            while (_bytes > maxBytes && _recency.Last is { } oldest)
            {
                Remove(oldest);
            }
        }
    }

    /// <summary>The synchronous form of <see cref="PurgeAsync"/>.</summary>
    public long Purge(string? model = null)
    {
        lock (_gate)
        {
            var doomed = _recency.Where(a => model is null || string.Equals(a.Model, model, StringComparison.OrdinalIgnoreCase)).ToList();
            foreach (var answer in doomed)
            {
                Remove(_entries[answer.Key]);
            }
            return doomed.Count;
        }
    }

    /// <summary>The synchronous form of <see cref="SizeAsync"/>.</summary>
    public (long Entries, long Bytes) Size()
    {
        lock (_gate)
        {
            return (_entries.Count, _bytes);
        }
    }

    /// <summary>Nothing is written anywhere: complete at once.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public void Dispose()
    {
    }

    /// <summary>Forgets one entry (the SQLite store drops from its in-memory level what it evicted from the file).</summary>
    internal void Remove(string key)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                Remove(node);
            }
        }
    }

    /// <summary>Moves a used entry to the front; a hot entry used over and over is usually there already.</summary>
    private void MakeRecent(LinkedListNode<CachedAnswer> node)
    {
        if (!ReferenceEquals(_recency.First, node))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
        }
    }

    private void Remove(LinkedListNode<CachedAnswer> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }
}
