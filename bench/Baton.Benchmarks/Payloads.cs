using System.Text;

namespace Baton.Benchmarks;

/// <summary>The request and answer bodies the benchmarks read: the overhead benchmark's own, plus a long conversation.</summary>
internal static class Payloads
{
    private static string Dir => Path.Combine(AppContext.BaseDirectory, "payloads");

    public static byte[] Request { get; } = File.ReadAllBytes(Path.Combine(Dir, "request.json"));

    public static byte[] StreamRequest { get; } = File.ReadAllBytes(Path.Combine(Dir, "request-stream.json"));

    public static byte[] Completion { get; } = File.ReadAllBytes(Path.Combine(Dir, "completion.json"));

    public static byte[] Stream { get; } = File.ReadAllBytes(Path.Combine(Dir, "stream.sse"));

    /// <summary>A 40-turn conversation with a tool, about 12 KB: what an agent sends late in a session.</summary>
    public static byte[] LongRequest { get; } = BuildLongRequest();

    private static byte[] BuildLongRequest()
    {
        var json = new StringBuilder();
        json.Append("""{"model":"bench","temperature":0.3,"max_tokens":512,"messages":[{"role":"system","content":"You are a careful coding assistant. Answer briefly."}""");
        for (var i = 0; i < 20; i++)
        {
            json.Append(",{\"role\":\"user\",\"content\":\"Question ").Append(i)
                .Append(": explain what the function at line ").Append(i * 10).Append(" does, and whether it can throw on a null argument.\"}");
            json.Append(",{\"role\":\"assistant\",\"content\":\"It validates the argument, then copies the span into a pooled buffer; it throws ArgumentNullException ")
                .Append("only when the caller passes null explicitly. Answer ").Append(i).Append(".\"}");
        }
        json.Append("""],"tools":[{"type":"function","function":{"name":"read_file","description":"Reads a file","parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}}]}""");
        return Encoding.UTF8.GetBytes(json.ToString());
    }
}
