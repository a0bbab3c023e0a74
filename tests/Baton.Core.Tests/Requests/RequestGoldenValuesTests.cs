using System.Text;
using Baton.Accounting;
using Baton.Caching;
using Baton.Requests;

namespace Baton.Core.Tests.Requests;

/// <summary>
/// What is computed from a request body (its cache key, its prompt tokens, its characters and messages) is pinned to
/// the values the implementation that read the body once per consumer gave, so that reading it once for all of them
/// changes none: a stored cache entry stays reachable, and a count, a budget and a limit stay what they were.
/// </summary>
public sealed class RequestGoldenValuesTests
{
    /// <summary>Name in <see cref="BodyCorpus.Requests"/>, cache key for the route <c>Route-A</c>, prompt tokens, characters, messages.</summary>
    public static TheoryData<string, string, int, int, int> Golden => new()
    {
        { "bench", "6381f9805ed0d25f2bdf3aec80de52b2d61a7a283b47b5ba8f64161629743e1d", 29, 86, 2 },
        { "long-conversation", "e7b5970bcd58bde94856bf49907cbfe5349ff01ce20d9e1d29ca1cd72e390b88", 1276, 5180, 41 },
        { "reordered-spaced", "6381f9805ed0d25f2bdf3aec80de52b2d61a7a283b47b5ba8f64161629743e1d", 29, 86, 2 },
        { "excluded-fields", "842fbfa90e5d99c2093383d437b80b4fc25f2cdbc05bacb9792889df52467ab0", 10, 13, 1 },
        { "escaped-names", "c9eb9964ba42cb814e2a4f7882edbfc7693a4d1e6f213073727949548a159ec3", 16, 55, 1 },
        { "unicode", "b49dc6c2654ae2fc8b723f4d5d1761907fb7b1cde4a81ffa6892ab170c41dbc1", 46, 106, 2 },
        { "numbers", "07a9cf1d7d7a1fcf4ba49af976484937dac99d4e7a412882f9ffc9ac918e4412", 7, 1, 1 },
        { "parts-and-images", "946f11db4fe316df4808164aee28f5fb2d75faefe79ca0043ba2d6ca09ec1d6a", 16, 39, 1 },
        { "tools-and-calls", "ecf914b137524378e5af8aa13bde0171f2578856f1722d082231932c04acc61f", 93, 29, 3 },
        { "gpt-4-encoding", "66a47af56928c64dd26fc09bc803119224dbb9566be7b4d692babeb50a3693f9", 20, 38, 2 },
        { "nested-unknowns", "eb0a180827df1258961aeaf058e7c2f1394eca401c7c1703375f25f5c64d1496", 7, 1, 1 },
        { "long-texts", "9df9e71ea9e8b30694c101cbc99f339b36e8416f5e21950511a19965739b05ab", 2358, 11720, 3 },
        { "duplicate-keys", "bd7d53f6169ca75f32a477cbcf63c7828558ae9e15d652c8caa2b64b944a4d29", 13, 22, 1 },
    };

    private static byte[] Body(string name) => Encoding.UTF8.GetBytes(BodyCorpus.Requests.Single(r => r.Name == name).Body);

    [Theory]
    [MemberData(nameof(Golden))]
    public void The_cache_key_is_the_one_computed_before(string name, string key, int tokens, int characters, int messages)
    {
        _ = (tokens, characters, messages);
        var body = Body(name);
        Assert.Equal(key, CacheKey.Compute(body, "Route-A"));
        Assert.Equal(key, CacheKey.Compute(ChatRequestParser.Parse(body), "Route-A"));
    }

    [Theory]
    [MemberData(nameof(Golden))]
    public void The_prompt_count_characters_and_messages_are_the_ones_computed_before(string name, string key, int tokens, int characters, int messages)
    {
        _ = key;
        var request = ChatRequestParser.Parse(Body(name));
        Assert.Equal(characters, request.PromptCharacters);
        Assert.Equal(messages, request.MessageCount);
        Assert.Equal(tokens, PromptTokenCounter.CountPrompt(request));
    }

    [Fact]
    public void Every_request_of_the_corpus_is_pinned() =>
        Assert.Equal(BodyCorpus.Requests.Select(r => r.Name).Order(), Golden.Select(row => (string)row[0]).Order());
}
