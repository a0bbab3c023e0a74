using Baton.Core.Tests.TestSupport;
using Baton.Auth;
using Baton.Core.Tests.Accounting;
using Baton.Errors;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Auth;

/// <summary>The key ring over the SQLite store: authentication, the lookup cache and its invalidation, expiry and revocation.</summary>
public sealed class KeyRingTests : IDisposable
{
    private const string Master = "master-key-for-tests-0123456789";
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly SqliteKeyStore _store;
    private readonly KeyRing _ring;

    public KeyRingTests()
    {
        _store = new SqliteKeyStore(_database.Path);
        _ring = new KeyRing(_store, Master, _time);
    }

    private static VirtualKey Settings(string? name = null) => new() { Id = "", Hint = "", CreatedAt = default, Name = name };

    [Fact]
    public async Task A_connection_presenting_its_key_again_is_answered_as_before_and_a_revoked_key_is_still_refused()
    {
        var (first, firstSecret) = await _ring.CreateAsync(Settings("first"), CancellationToken.None);
        var (second, secondSecret) = await _ring.CreateAsync(Settings("second"), CancellationToken.None);
        var memo = new PresentedKeyMemo();

        Assert.Equal(first.Id, (await _ring.AuthenticateAsync(firstSecret, memo, CancellationToken.None))!.Id);
        Assert.Equal(first.Id, (await _ring.AuthenticateAsync(firstSecret, memo, CancellationToken.None))!.Id);
        // Another key on the same connection, a wrong one, the master key: each is hashed and answered as it is.
        Assert.Equal(second.Id, (await _ring.AuthenticateAsync(secondSecret, memo, CancellationToken.None))!.Id);
        Assert.Null(await _ring.AuthenticateAsync(secondSecret[..^1] + "x", memo, CancellationToken.None));
        Assert.True((await _ring.AuthenticateAsync(Master, memo, CancellationToken.None))!.IsMaster);
        Assert.Equal(first.Id, (await _ring.AuthenticateAsync(firstSecret, memo, CancellationToken.None))!.Id);

        // The memo keeps a digest, not a verdict: a revoked key is refused on the connection that used it.
        await _ring.RevokeAsync(first.Id, CancellationToken.None);
        Assert.Null(await _ring.AuthenticateAsync(firstSecret, memo, CancellationToken.None));
    }

    [Fact]
    public async Task The_master_key_and_a_created_key_authenticate_and_nothing_else_does()
    {
        var (key, secret) = await _ring.CreateAsync(Settings("ci"), CancellationToken.None);

        Assert.True((await _ring.AuthenticateAsync(Master, CancellationToken.None))!.IsMaster);
        var caller = await _ring.AuthenticateAsync(secret, CancellationToken.None);
        Assert.Equal(key.Id, caller!.Id);
        Assert.Equal("ci", caller.Key!.Name);
        Assert.StartsWith("bk-", secret, StringComparison.Ordinal);
        Assert.Equal(KeySecrets.Hint(secret), key.Hint);
        Assert.Null(await _ring.AuthenticateAsync(secret + "x", CancellationToken.None));
        Assert.Null(await _ring.AuthenticateAsync(Master[..^1], CancellationToken.None));
        Assert.Null(await _ring.AuthenticateAsync("", CancellationToken.None));
        Assert.Null(await _ring.AuthenticateAsync(null, CancellationToken.None));
        // The store holds the hash, never the secret.
        Assert.Equal(0, _database.Scalar($"SELECT COUNT(*) FROM api_keys WHERE settings LIKE '%{secret}%' OR secret_hash = '{secret}'"));
        Assert.Equal(1, _database.Scalar($"SELECT COUNT(*) FROM api_keys WHERE secret_hash = '{KeySecrets.Hash(secret)}'"));
    }

    [Fact]
    public async Task A_revoked_or_updated_key_is_seen_at_the_next_lookup_despite_the_cache()
    {
        var (key, secret) = await _ring.CreateAsync(Settings(), CancellationToken.None);
        Assert.NotNull(await _ring.AuthenticateAsync(secret, CancellationToken.None));

        await _ring.UpdateAsync(key with { Rpm = 5 }, CancellationToken.None);
        Assert.Equal(5, (await _ring.AuthenticateAsync(secret, CancellationToken.None))!.Key!.Rpm);

        var revoked = await _ring.RevokeAsync(key.Id, CancellationToken.None);
        Assert.Equal(_time.GetUtcNow(), revoked!.RevokedAt);
        Assert.Null(await _ring.AuthenticateAsync(secret, CancellationToken.None));
        Assert.Null(await _ring.RevokeAsync("key_missing", CancellationToken.None));

        // Revoked keys stay on record, with their settings.
        var listed = Assert.Single(await _store.ListAsync(CancellationToken.None));
        Assert.Equal(5, listed.Rpm);
        Assert.NotNull(listed.RevokedAt);
    }

    [Fact]
    public async Task A_key_is_refused_from_its_expiry_on()
    {
        var (_, secret) = await _ring.CreateAsync(Settings() with { ExpiresAt = _time.GetUtcNow().AddMinutes(10) }, CancellationToken.None);
        Assert.NotNull(await _ring.AuthenticateAsync(secret, CancellationToken.None));

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Null(await _ring.AuthenticateAsync(secret, CancellationToken.None));
    }

    [Fact]
    public void Key_limits_refuse_at_once_and_refill_on_the_clock()
    {
        var limiter = new KeyLimiter(_time);
        var key = Settings() with { Id = "key_1", Rpm = 60, MaxParallel = 2 };

        using (var first = limiter.Admit(key, 10))
        {
            using var second = limiter.Admit(key, 10);
            var parallel = Assert.Throws<BatonException>(() => limiter.Admit(key, 10));
            Assert.Equal(429, parallel.StatusCode);
            Assert.Equal("rate_limited", parallel.Code);
        }
        // Two of the 60 requests of the minute are spent; the other 58 go through, the next one waits a second.
        for (var i = 0; i < 58; i++)
        {
            limiter.Admit(key, 10).Dispose();
        }
        var rpm = Assert.Throws<BatonException>(() => limiter.Admit(key, 10));
        Assert.Equal(TimeSpan.FromSeconds(1), rpm.RetryAfter);

        _time.Advance(TimeSpan.FromSeconds(1));
        limiter.Admit(key, 10).Dispose();
    }

    [Fact]
    public void A_keys_tokens_are_corrected_with_the_reported_usage()
    {
        var limiter = new KeyLimiter(_time);
        var key = Settings() with { Id = "key_2", Tpm = 600 };

        using (var lease = limiter.Admit(key, 100))
        {
            // The prompt was estimated at 100 tokens; the answer took 600 in all: the bucket is empty afterwards.
            lease.Complete(600);
        }
        var refused = Assert.Throws<BatonException>(() => limiter.Admit(key, 100));
        Assert.Equal(TimeSpan.FromSeconds(10), refused.RetryAfter);

        _time.Advance(TimeSpan.FromSeconds(10));
        limiter.Admit(key, 100).Dispose();
    }

    public void Dispose()
    {
        _store.Dispose();
        _database.Dispose();
    }
}
