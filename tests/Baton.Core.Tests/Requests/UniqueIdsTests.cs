using Baton.Requests;

namespace Baton.Core.Tests.Requests;

public sealed class UniqueIdsTests
{
    [Fact]
    public void A_time_ordered_id_is_a_version_7_uuid_carrying_its_millisecond()
    {
        var now = new DateTimeOffset(2026, 12, 3, 7, 0, 0, 123, TimeSpan.Zero);
        var id = UniqueIds.TimeOrdered(now);

        Assert.Matches("^[0-9a-f]{32}$", id);
        var guid = Guid.ParseExact(id, "N");
        Assert.Equal(7, guid.Version);
        Assert.Equal(0b10, guid.Variant >> 2);
        Assert.Equal(now.ToUnixTimeMilliseconds(), Convert.ToInt64(id[..12], 16));
    }

    [Fact]
    public void Time_ordered_ids_are_unique_and_sort_by_time()
    {
        var start = new DateTimeOffset(2026, 12, 3, 7, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 10_000).Select(i => UniqueIds.TimeOrdered(start.AddMilliseconds(i / 100))).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        var earlier = ids.Take(100).Max(StringComparer.Ordinal);
        var later = ids.Skip(100).Min(StringComparer.Ordinal);
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
    }

    [Fact]
    public void A_random_id_is_a_version_4_uuid_and_ids_are_unique()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => UniqueIds.Random()).ToList();

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.All(ids, id => Assert.Equal(4, Guid.ParseExact(id, "N").Version));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
