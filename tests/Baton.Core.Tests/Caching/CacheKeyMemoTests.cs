using System.Text;
using Baton.Caching;
using Baton.Requests;

namespace Baton.Core.Tests.Caching;

/// <summary>The keys of bodies seen before are remembered, and are exactly the keys the bodies would get anyway.</summary>
public sealed class CacheKeyMemoTests
{
    private static ChatRequest Parse(string body) => ChatRequestParser.Parse(Encoding.UTF8.GetBytes(body));

    private const string Body = """{"model":"m","temperature":0.7,"messages":[{"role":"user","content":"Hi"}],"max_tokens":50}""";

    [Fact]
    public void A_body_seen_again_gets_the_same_key_without_a_new_string()
    {
        var memo = new CacheKeyMemo();

        var first = memo.Compute(Parse(Body), "m");
        var again = memo.Compute(Parse(Body), "m");

        Assert.Equal(CacheKey.Compute(Parse(Body), "m"), first);
        Assert.Same(first, again);
    }

    [Fact]
    public void Every_body_and_model_gets_exactly_the_key_computed_afresh()
    {
        var memo = new CacheKeyMemo();
        var bodies = Enumerable.Range(0, 3000)
            .Select(i => Body.Replace("Hi", "Hi " + (i % 1500), StringComparison.Ordinal))
            .Concat([Body, Body.Replace(" ", "", StringComparison.Ordinal), """{ "max_tokens":50, "model":"x", "messages":[{"content":"Hi","role":"user"}], "temperature":0.70 }"""])
            .ToList();

        // More bodies than slots, each twice (the second pass meets the first's entries and their replacements).
        foreach (var model in new[] { "m", "other" })
        {
            foreach (var body in bodies)
            {
                Assert.Equal(CacheKey.Compute(Parse(body), model), memo.Compute(Parse(body), model));
            }
        }
        // The same request in another spelling is one entry of the cache, through the memo too.
        Assert.Equal(memo.Compute(Parse(Body), "m"), memo.Compute(Parse(bodies[^1]), "m"));
        Assert.NotEqual(memo.Compute(Parse(Body), "m"), memo.Compute(Parse(Body), "other"));
    }
}
