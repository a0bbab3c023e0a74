using Baton.Accounting.Ledger;

namespace Baton.Core.Tests.Accounting;

public sealed class AttemptIdsTests
{
    [Fact]
    public void An_id_is_a_version_7_uuid_carrying_its_millisecond()
    {
        var now = new DateTimeOffset(2026, 12, 3, 7, 0, 0, 123, TimeSpan.Zero);
        var id = AttemptIds.New(now);

        Assert.Matches("^[0-9a-f]{32}$", id);
        var guid = Guid.ParseExact(id, "N");
        Assert.Equal(7, guid.Version);
        Assert.Equal(0b10, guid.Variant >> 2);
        Assert.Equal(now.ToUnixTimeMilliseconds(), Convert.ToInt64(id[..12], 16));
    }

    [Fact]
    public void Ids_are_unique_and_sort_by_time()
    {
        var start = new DateTimeOffset(2026, 12, 3, 7, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 10_000).Select(i => AttemptIds.New(start.AddMilliseconds(i / 100))).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        var earlier = ids.Where((_, i) => i < 100).Max(StringComparer.Ordinal);
        var later = ids.Where((_, i) => i >= 100).Min(StringComparer.Ordinal);
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
    }
}
