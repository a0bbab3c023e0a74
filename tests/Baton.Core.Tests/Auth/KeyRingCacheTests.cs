using Baton.Auth;
using Baton.Core.Tests.Accounting;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Auth;

/// <summary>
/// The key ring's cache of verified keys: a known key is answered from memory, and every way a key can change
/// (here, through another instance's announcement, or the store's own notification) is seen at the next request.
/// </summary>
public sealed class KeyRingCacheTests : IDisposable
{
    private const string Master = "master-key-for-tests-0123456789";
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly SqliteKeyStore _sqlite;
    private readonly CountingKeyStore _store;
    private readonly ChangeFeed _feed = new();
    private readonly KeyRing _ring;

    public KeyRingCacheTests()
    {
        _sqlite = new SqliteKeyStore(_database.Path);
        _store = new CountingKeyStore(_sqlite);
        _ring = new KeyRing(_store, Master, _time, _feed);
    }

    private static VirtualKey Settings(string? name = null) => new() { Id = "", Hint = "", CreatedAt = default, Name = name };

    [Fact]
    public async Task A_known_key_is_read_from_the_store_once_and_then_answered_from_memory()
    {
        var (key, secret) = await _ring.CreateAsync(Settings("ci"), CancellationToken.None);

        var first = await _ring.AuthenticateAsync(secret, CancellationToken.None);
        var second = await _ring.AuthenticateAsync(secret, CancellationToken.None);

        Assert.Equal(key.Id, first!.Id);
        Assert.Equal(key.Id, second!.Id);
        Assert.Equal(1, _store.Lookups);
        // The store was asked by the hash it keeps, the one KeySecrets computes.
        Assert.Equal(KeySecrets.Hash(secret), Assert.Single(_store.Hashes));
    }

    [Fact]
    public async Task Unknown_secrets_are_not_cached_and_long_or_odd_ones_are_refused_cleanly()
    {
        var (_, secret) = await _ring.CreateAsync(Settings(), CancellationToken.None);

        Assert.Null(await _ring.AuthenticateAsync(secret[..^1] + "?", CancellationToken.None));
        Assert.Null(await _ring.AuthenticateAsync(secret[..^1] + "?", CancellationToken.None));
        Assert.Equal(2, _store.Lookups);

        // Past the stack buffer: hashed through a pooled one, same answer.
        var longUnknown = KeySecrets.Prefix + new string('x', 5000);
        Assert.Null(await _ring.AuthenticateAsync(longUnknown, CancellationToken.None));
        Assert.Equal(KeySecrets.Hash(longUnknown), _store.Hashes[^1]);
        // Not a virtual key, not the master key: refused without asking the store.
        Assert.Null(await _ring.AuthenticateAsync("sk-" + new string('é', 3000), CancellationToken.None));
        Assert.Equal(3, _store.Lookups);
        Assert.True((await _ring.AuthenticateAsync(Master, CancellationToken.None))!.IsMaster);
    }

    [Fact]
    public async Task A_key_revoked_by_another_instance_is_refused_from_the_announcement_on()
    {
        var (key, secret) = await _ring.CreateAsync(Settings(), CancellationToken.None);
        Assert.NotNull(await _ring.AuthenticateAsync(secret, CancellationToken.None));

        // Another gateway revokes it in the shared store; until it announces the change, this one's cache holds.
        await _sqlite.UpdateAsync(key with { RevokedAt = _time.GetUtcNow() }, CancellationToken.None);
        Assert.NotNull(await _ring.AuthenticateAsync(secret, CancellationToken.None));

        _feed.Announce();

        Assert.Null(await _ring.AuthenticateAsync(secret, CancellationToken.None));
        Assert.Null(await _ring.AuthenticateAsync(secret, CancellationToken.None));
    }

    [Fact]
    public async Task A_revocation_here_is_seen_at_once_and_announced_to_the_others()
    {
        var (key, secret) = await _ring.CreateAsync(Settings(), CancellationToken.None);
        Assert.NotNull(await _ring.AuthenticateAsync(secret, CancellationToken.None));

        await _ring.RevokeAsync(key.Id, CancellationToken.None);

        Assert.Null(await _ring.AuthenticateAsync(secret, CancellationToken.None));
        Assert.Equal(1, _feed.Announced);
    }

    [Fact]
    public async Task A_cached_key_still_expires_on_the_clock()
    {
        var (_, secret) = await _ring.CreateAsync(Settings() with { ExpiresAt = _time.GetUtcNow().AddMinutes(1) }, CancellationToken.None);
        Assert.NotNull(await _ring.AuthenticateAsync(secret, CancellationToken.None));

        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Null(await _ring.AuthenticateAsync(secret, CancellationToken.None));
        Assert.Equal(1, _store.Lookups);
    }

    [Fact]
    public void A_keys_changed_limits_take_a_fresh_bucket_of_the_new_size()
    {
        var limiter = new KeyLimiter(_time);
        var key = Settings() with { Id = "key_1", Rpm = 2 };
        limiter.Admit(key, 1).Dispose();
        limiter.Admit(key, 1).Dispose();
        Assert.Equal(429, Assert.Throws<BatonException>(() => limiter.Admit(key, 1)).StatusCode);

        // Raised: a new bucket, full at the new size, at once.
        var raised = key with { Rpm = 3 };
        for (var i = 0; i < 3; i++)
        {
            limiter.Admit(raised, 1).Dispose();
        }
        Assert.Equal(429, Assert.Throws<BatonException>(() => limiter.Admit(raised, 1)).StatusCode);
        // Back to the old limits: the old bucket, still empty.
        Assert.Equal(429, Assert.Throws<BatonException>(() => limiter.Admit(key, 1)).StatusCode);
    }

    public void Dispose()
    {
        _sqlite.Dispose();
        _database.Dispose();
    }

    private sealed class ChangeFeed : IKeyChangeFeed
    {
        private Action? _subscriber;

        public int Announced { get; private set; }

        public ValueTask AnnounceAsync(CancellationToken cancellationToken)
        {
            Announced++;
            return ValueTask.CompletedTask;
        }

        public void Subscribe(Action onChange) => _subscriber += onChange;

        public void Announce() => _subscriber?.Invoke();
    }

    private sealed class CountingKeyStore(IKeyStore inner) : IKeyStore
    {
        public int Lookups => Hashes.Count;

        public List<string> Hashes { get; } = [];

        public ValueTask CreateAsync(VirtualKey key, string secretHash, CancellationToken cancellationToken) => inner.CreateAsync(key, secretHash, cancellationToken);

        public ValueTask<VirtualKey?> FindByHashAsync(string secretHash, CancellationToken cancellationToken)
        {
            Hashes.Add(secretHash);
            return inner.FindByHashAsync(secretHash, cancellationToken);
        }

        public ValueTask<VirtualKey?> GetAsync(string id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

        public ValueTask<IReadOnlyList<VirtualKey>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

        public ValueTask<bool> UpdateAsync(VirtualKey key, CancellationToken cancellationToken) => inner.UpdateAsync(key, cancellationToken);
    }
}
