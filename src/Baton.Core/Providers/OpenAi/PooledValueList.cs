using System.Buffers;

namespace Baton.Providers.OpenAi;

/// <summary>
/// A list of values in an array rented from the shared pool, for a per-stream reader that clears it for every
/// chunk: a stream then allocates no list and no array of its own (a <see cref="List{T}"/> allocated both per
/// stream, and grew by copying). A mutable struct: kept in a field and used through it, never copied.
/// </summary>
internal struct PooledValueList<T>
{
    private T[] _items;

    public int Count { readonly get; private set; }

    /// <summary>The array behind the list; only its first <see cref="Count"/> items are the list's.</summary>
    public readonly T[] Items => _items ?? [];

    /// <summary>The item at <paramref name="index"/>, by reference so that it can be replaced in place.</summary>
    public readonly ref T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return ref _items[index];
        }
    }

    public void Add(in T item)
    {
        _items ??= [];
        if (Count == _items.Length)
        {
            var grown = ArrayPool<T>.Shared.Rent(Math.Max(8, Count * 2));
            _items.AsSpan(0, Count).CopyTo(grown);
            Return();
            _items = grown;
        }
        _items[Count] = item;
        Count++;
    }

    public void Clear() => Count = 0;

    /// <summary>Returns the array to the pool; the list is empty and rents again if added to.</summary>
    public void Dispose()
    {
        Return();
        _items = [];
        Clear();
    }

    private readonly void Return()
    {
        if (_items is { Length: > 0 } items)
        {
            ArrayPool<T>.Shared.Return(items);
        }
    }
}
