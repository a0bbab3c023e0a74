namespace Baton.Providers;

/// <summary>
/// A provider type implemented outside Baton.Core (the simulator in Baton.Simulator, for instance), registered with
/// <see cref="Hosting.BatonProviderTypeExtensions.AddBatonProviderType"/>. Keeping such types out of the engine keeps
/// the engine's package free of what only some applications need.
/// </summary>
public sealed class ChatProviderType
{
    private readonly Func<ProviderContext, IChatProvider> _create;

    /// <summary>Creates a registration for the provider type <paramref name="name"/>.</summary>
    /// <param name="name">The value of <c>providers.NAME.type</c> that selects this implementation.</param>
    /// <param name="create">Creates the provider for one configured provider entry.</param>
    public ChatProviderType(string name, Func<ProviderContext, IChatProvider> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        Name = name;
        _create = create;
    }

    /// <summary>The value of <c>providers.NAME.type</c> that selects this implementation.</summary>
    public string Name { get; }

    /// <summary>Creates the provider for one configured provider entry.</summary>
    public IChatProvider Create(ProviderContext context) => _create(context);
}
